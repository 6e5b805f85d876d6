//! `capsurvey report render` and `capsurvey export` end to end, on each test database.

use std::path::Path;
use std::process::{Command, Output};

use capsurvey_report::testing::{seed_store, shipped_survey};
use capsurvey_store::testing::each_backend;

fn capsurvey(db: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .arg("--db")
        .arg(db)
        .args(args)
        .current_dir(cwd)
        .env_remove("CAPSURVEY_DB")
        .output()
        .expect("run capsurvey")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "capsurvey failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn render_and_export_from_the_command_line() {
    each_backend(|db| async move {
        seed_store(db.store.db(), &shipped_survey("visiting-nurse"), 70, 8)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();

        let stdout = ok(&capsurvey(
            &db.spec,
            &[
                "report",
                "render",
                "--survey",
                "visiting-nurse",
                "--min-cell",
                "3",
                "--out",
                "nurse.html",
            ],
            cwd,
        ));
        assert!(
            stdout.contains("wrote nurse.html") && stdout.contains("visiting-nurse v1"),
            "{stdout}"
        );
        let html = std::fs::read_to_string(cwd.join("nurse.html")).unwrap();
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.contains("訪問看護ステーション機能調査")
        );
        assert!(html.contains("「*」"), "suppression note");

        // One area only: the collection table lists just that area.
        ok(&capsurvey(
            &db.spec,
            &[
                "report",
                "render",
                "--survey",
                "visiting-nurse",
                "--version",
                "1",
                "--area",
                "北沢",
                "--out",
                "kita.html",
            ],
            cwd,
        ));
        let kita = std::fs::read_to_string(cwd.join("kita.html")).unwrap();
        let collection = &kita[kita.find("<h3>地区別</h3>").unwrap()..];
        let collection = &collection[..collection.find("</table>").unwrap()];
        assert!(
            collection.contains("<th>北沢</th>") && !collection.contains("<th>玉川</th>"),
            "{collection}"
        );
        assert!(kita.contains("調査対象：訪問看護ステーション（北沢）"));

        // Own templates: start from the defaults, change one.
        ok(&capsurvey(&db.spec, &["report", "templates", "mine"], cwd));
        assert!(cwd.join("mine/handout.html.j2").is_file());
        std::fs::write(
            cwd.join("mine/cover.html.j2"),
            "<section class=\"part cover\"><h1>区役所版 {{ survey.title }}</h1></section>\n",
        )
        .unwrap();
        ok(&capsurvey(
            &db.spec,
            &[
                "report",
                "render",
                "--survey",
                "visiting-nurse",
                "--templates",
                "mine",
                "--out",
                "own.html",
            ],
            cwd,
        ));
        let own = std::fs::read_to_string(cwd.join("own.html")).unwrap();
        assert!(
            own.contains("区役所版 訪問看護ステーション機能調査") && own.contains("集計にあたって")
        );

        // Mistakes say what to do.
        let out = capsurvey(
            &db.spec,
            &["report", "render", "--survey", "dental", "--out", "x.html"],
            cwd,
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("survey `dental`") && err.contains("visiting-nurse v1"),
            "{err}"
        );
        let out = capsurvey(
            &db.spec,
            &[
                "report",
                "render",
                "--survey",
                "visiting-nurse",
                "--templates",
                "nowhere",
                "--out",
                "x.html",
            ],
            cwd,
        );
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("nowhere"));

        // Export.
        let stdout = ok(&capsurvey(
            &db.spec,
            &[
                "export",
                "--survey",
                "visiting-nurse",
                "--format",
                "csv",
                "--out",
                "nurse.csv",
            ],
            cwd,
        ));
        assert!(stdout.contains("wrote nurse.csv"), "{stdout}");
        let csv = std::fs::read(cwd.join("nurse.csv")).unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF") && csv.windows(2).any(|w| w == b"\r\n"));
        ok(&capsurvey(
            &db.spec,
            &[
                "export",
                "--survey",
                "visiting-nurse",
                "--out",
                "nurse.xlsx",
            ],
            cwd,
        ));
        assert!(
            std::fs::read(cwd.join("nurse.xlsx"))
                .unwrap()
                .starts_with(b"PK")
        );
        let out = capsurvey(
            &db.spec,
            &["export", "--survey", "visiting-nurse", "--out", "nurse.txt"],
            cwd,
        );
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--format"));
        db
    })
    .await;
}

#[test]
fn help_explains_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let help = ok(&capsurvey(
        "unused.db",
        &["report", "render", "--help"],
        dir.path(),
    ));
    for s in [
        "--survey",
        "--area",
        "--min-cell",
        "--templates",
        "無回答",
        "docs/handouts.md",
    ] {
        assert!(help.contains(s), "report render --help lacks {s}:\n{help}");
    }
    let help = ok(&capsurvey("unused.db", &["export", "--help"], dir.path()));
    for s in ["--format", "csv", "xlsx", "確認中"] {
        assert!(help.contains(s), "export --help lacks {s}:\n{help}");
    }
}
