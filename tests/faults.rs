//! Killed in the middle (SIGKILL, no chance to clean up) of a scan ingest and of a CSV import,
//! at several points: the database stays consistent, and running the same command again ends
//! with exactly what one uninterrupted run stores. On SQLite, and on PostgreSQL when
//! CAPSURVEY_TEST_POSTGRES is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use capsurvey_faxsim::inbox::{Channel, Reply, write_inbox};
use capsurvey_store::Store;
use capsurvey_store::entity::{answers, facilities, imported_files, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use capsurvey_store::testing::TestDb;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn command(spec: &str, data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_capsurvey"));
    c.env_remove("CAPSURVEY_DB")
        .args(["--db", spec, "--data"])
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs to the end and returns the time it took.
fn complete(spec: &str, data: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let status = command(spec, data, args).status().unwrap();
    assert!(status.success(), "{args:?} failed");
    t.elapsed()
}

/// Starts the command and kills it with SIGKILL after `after`.
fn killed(spec: &str, data: &Path, args: &[&str], after: Duration) {
    let mut child = command(spec, data, args).spawn().unwrap();
    std::thread::sleep(after);
    child.kill().ok(); // SIGKILL on Unix
    child.wait().ok();
}

/// What the store holds, in numbers that must not depend on interruptions.
async fn state(store: &Store) -> Vec<(String, u64)> {
    let db = store.db();
    let mut out = vec![
        (
            "pages".into(),
            scanned_pages::Entity::find().count(db).await.unwrap(),
        ),
        (
            "files".into(),
            imported_files::Entity::find().count(db).await.unwrap(),
        ),
    ];
    for status in ["accepted", "review", "superseded"] {
        let n = answers::Entity::find()
            .filter(answers::Column::Status.eq(status))
            .count(db)
            .await
            .unwrap();
        out.push((format!("answers {status}"), n));
    }
    for kind in ["mark", "write_in", "page", "value", "conflict"] {
        let n = review_tasks::Entity::find()
            .filter(review_tasks::Column::Kind.eq(kind))
            .count(db)
            .await
            .unwrap();
        out.push((format!("tasks {kind}"), n));
    }
    out
}

/// Quality checks are a share of the answers chosen by answer id, and ids are not the same after
/// an interruption (PostgreSQL sequences skip what a killed transaction took): what must hold
/// after a completed run is that exactly the answers the rule picks are queued.
async fn assert_quality_sample(store: &Store) {
    let db = store.db();
    let mut picked: Vec<i64> = answers::Entity::find()
        .filter(answers::Column::SourceKind.eq("scan"))
        .filter(answers::Column::Status.eq("accepted"))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| {
            capsurvey_store::review::in_quality_sample(
                a.id,
                capsurvey_store::review::DEFAULT_QUALITY_SHARE,
            )
        })
        .map(|a| a.id)
        .collect();
    let mut queued: Vec<i64> = review_tasks::Entity::find()
        .filter(review_tasks::Column::Kind.eq("quality"))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|t| t.answer_id)
        .collect();
    queued.sort();
    picked.sort();
    assert_eq!(
        queued, picked,
        "quality checks are exactly the sampled answers"
    );
}

/// A fresh database with the dental roster and forms (the same mailing ids every time).
async fn prepared(tmp: &Path, pg: bool) -> TestDb {
    let db = if pg {
        TestDb::postgres(
            &capsurvey_store::testing::postgres_url().expect("CAPSURVEY_TEST_POSTGRES is set"),
        )
        .await
    } else {
        TestDb::sqlite().await
    };
    let roster = repo().join("fixtures/roster/03-1_dental_facility_info_20260601.csv");
    complete(
        &db.spec,
        &tmp.join("data"),
        &["roster", "import", roster.to_str().unwrap()],
    );
    let campaign = repo().join("fixtures/campaign.toml");
    let forms = tmp.join(format!("forms-{}", db.backend));
    complete(
        &db.spec,
        &tmp.join("data"),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--out",
            forms.to_str().unwrap(),
        ],
    );
    db
}

/// Simulated replies to the first `n` dental mailings of `db`, channels taken in turn, written
/// to `inbox`.
async fn write_replies(db: &TestDb, inbox: &Path, n: usize, channels: &[Channel]) {
    let versions = capsurvey_store::survey_versions(db.store.db())
        .await
        .unwrap();
    let v = &versions[0];
    let survey = capsurvey_store::stored_definition(v).unwrap();
    let layout = capsurvey_forms::form::layout(&survey, &v.content_hash);
    let mailings = capsurvey_store::mailings_of(db.store.db(), v.id)
        .await
        .unwrap();
    let replies: Vec<Reply> = mailings
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, m)| Reply {
            survey: &survey,
            layout: &layout,
            survey_version_id: v.id as u32,
            mailing_id: m.id as u32,
            channel: channels[i % channels.len()],
            seed: m.id as u64,
        })
        .collect();
    write_inbox(inbox, &replies).unwrap();
}

fn backends() -> Vec<bool> {
    let mut b = vec![false];
    if capsurvey_store::testing::postgres_url().is_some() {
        b.push(true);
    }
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_scan_ingest_completes_on_the_next_run() {
    for pg in backends() {
        let tmp = tempfile::tempdir().unwrap();
        let reference = prepared(tmp.path(), pg).await;
        // The inbox: twelve replies, one file each (a scanned batch PDF for the posted ones).
        let inbox = tmp.path().join("inbox");
        let channels = [Channel::FaxStandard, Channel::FaxFine, Channel::Scan];
        write_replies(&reference, &inbox, 12, &channels).await;
        let args = ["scan", "ingest", inbox.to_str().unwrap()];
        let data = tmp.path().join("data");
        let full = complete(&reference.spec, &data, &args);
        let want = state(&reference.store).await;
        assert!(want[0].1 > 30, "{want:?}");
        assert_quality_sample(&reference.store).await;
        reference.cleanup().await;

        let mut cut_short = 0;
        for share in [0.15, 0.4, 0.7, 0.9] {
            let db = prepared(tmp.path(), pg).await;
            killed(&db.spec, &data, &args, full.mul_f64(share));
            let partial = state(&db.store).await;
            cut_short += usize::from(partial != want);
            // Whole files or nothing: every stored page belongs to a recorded file.
            let orphans = scanned_pages::Entity::find()
                .filter(scanned_pages::Column::ImportedFileId.is_null())
                .count(db.store.db())
                .await
                .unwrap();
            assert_eq!(orphans, 0, "{} at {share}: {partial:?}", db.backend);
            complete(&db.spec, &data, &args);
            assert_eq!(
                state(&db.store).await,
                want,
                "{} killed at {share}",
                db.backend
            );
            assert_quality_sample(&db.store).await;
            db.cleanup().await;
        }
        assert!(cut_short >= 2, "the kills came too late to test anything");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_csv_import_completes_on_the_next_run() {
    for pg in backends() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = tmp.path().join("replies.csv");
        let mut text = String::from("survey,facility_code,q08,q12,q13,q16\n");
        for i in 0..3000 {
            text += &format!("dental,99{i:08},{},はい,{},1;3\n", 1 + i % 3, 1 + i % 3);
        }
        std::fs::write(&csv, text).unwrap();
        let setup = |db: TestDb| async move {
            for i in 0..3000 {
                facilities::ActiveModel {
                    code: Set(format!("99{i:08}")),
                    facility_type: Set("dental".into()),
                    name: Set(format!("歯科{i}")),
                    created_at: Set(capsurvey_store::now()),
                    updated_at: Set(capsurvey_store::now()),
                    ..Default::default()
                }
                .insert(db.store.db())
                .await
                .unwrap();
            }
            db
        };
        let new_db = || async {
            if pg {
                TestDb::postgres(&capsurvey_store::testing::postgres_url().unwrap()).await
            } else {
                TestDb::sqlite().await
            }
        };
        let data = tmp.path().join("data");
        let args = [
            "replies",
            "import",
            csv.to_str().unwrap(),
            "--survey",
            "dental",
        ];
        let reference = setup(new_db().await).await;
        let full = complete(&reference.spec, &data, &args);
        let want = state(&reference.store).await;
        reference.cleanup().await;
        let mut cut_short = 0;
        for share in [0.3, 0.6, 0.9] {
            let db = setup(new_db().await).await;
            killed(&db.spec, &data, &args, full.mul_f64(share));
            cut_short += usize::from(state(&db.store).await != want);
            complete(&db.spec, &data, &args);
            assert_eq!(
                state(&db.store).await,
                want,
                "{} killed at {share}",
                db.backend
            );
            db.cleanup().await;
        }
        assert!(cut_short >= 1, "the kills came too late to test anything");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_ingests_of_the_same_files_at_once_store_every_page_once() {
    for pg in backends() {
        let tmp = tempfile::tempdir().unwrap();
        let reference = prepared(tmp.path(), pg).await;
        let inbox = tmp.path().join("inbox");
        write_replies(
            &reference,
            &inbox,
            8,
            &[Channel::FaxStandard, Channel::FaxFine],
        )
        .await;
        let args = ["scan", "ingest", inbox.to_str().unwrap()];
        let data = tmp.path().join("data");
        complete(&reference.spec, &data, &args);
        let want = state(&reference.store).await;
        reference.cleanup().await;

        let db = prepared(tmp.path(), pg).await;
        let run = || {
            let mut c = command(&db.spec, &data, &args);
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            c.spawn().unwrap()
        };
        let (a, b) = (run(), run());
        let (ra, rb) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for r in [&ra, &rb] {
            assert!(
                r.status.success(),
                "{}: {}{}",
                db.backend,
                String::from_utf8_lossy(&r.stdout),
                String::from_utf8_lossy(&r.stderr)
            );
        }
        assert_eq!(state(&db.store).await, want, "{}", db.backend);
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_database_is_a_clear_error_and_nothing_is_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = prepared(tmp.path(), false).await;
    let inbox = tmp.path().join("inbox");
    write_replies(&db, &inbox, 1, &[Channel::FaxFine]).await;
    let read_only = format!("sqlite://{}?mode=ro", db.spec);
    let out = command(
        &read_only,
        &tmp.path().join("data"),
        &["scan", "ingest", inbox.to_str().unwrap()],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .output()
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("fax-0001.tif") && text.contains("cannot be written"),
        "{text}"
    );
    assert_eq!(state(&db.store).await[0], ("pages".to_string(), 0));
    db.cleanup().await;
}
