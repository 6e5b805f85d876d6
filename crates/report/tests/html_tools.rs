//! The rendered handout checked by real tools: the Nu Html Checker, and Chromium printing it to
//! A4 PDF pages with nothing wider than the printable area. Page images are left in
//! `target/tmp/report-artifacts/<survey>/` for a person to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use capsurvey_report::testing::{shipped_survey, synthetic_input};
use capsurvey_report::{Renderer, ReportOptions, aggregate};
use common::{artifacts, chromium, run, vnu_jar};

/// A4 in PostScript points.
const A4: (f64, f64) = (595.28, 841.89);
/// The printable area's left and right edges (13 mm margins, style.css.j2).
const MARGIN_PT: f64 = 13.0 / 25.4 * 72.0;

fn handout(survey: &str, n: usize, min_cell: u64) -> (PathBuf, String) {
    let parsed = shipped_survey(survey);
    let input = synthetic_input(&parsed.survey, n, 11);
    let mut opts = ReportOptions::new(chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap());
    opts.min_cell = min_cell;
    let report = aggregate(&input, &opts);
    let html = Renderer::new(None).unwrap().render(&report).unwrap();
    let path = artifacts(survey).join("handout.html");
    std::fs::write(&path, &html).unwrap();
    (path, html)
}

#[test]
fn handouts_pass_the_nu_html_checker() {
    let jar = vnu_jar();
    let mut files = Vec::new();
    for (survey, n, min_cell) in [
        ("dental", 240, 3),
        ("homecare-clinic", 240, 0),
        ("visiting-nurse", 240, 5),
    ] {
        let (path, html) = handout(survey, n, min_cell);
        assert!(html.starts_with("<!DOCTYPE html>"));
        files.push(path);
    }
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "text"])
        .args(&files)
        .output()
        .expect("run java");
    let messages =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !messages.contains("error:"),
        "vnu reported errors:\n{messages}"
    );
}

#[test]
fn handouts_are_self_contained() {
    let (_, html) = handout("homecare-clinic", 120, 0);
    for external in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(
            !html.contains(external),
            "handout refers to something outside itself: {external}"
        );
    }
    assert!(html.contains("<html lang=\"ja\">"));
    assert!(html.contains("size: A4 portrait"));
    assert!(html.contains("<svg"));
}

/// Page sizes from `pdfinfo -f 1 -l N`.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let out = run(Command::new("pdfinfo")
        .args(["-f", "1", "-l", "100000"])
        .arg(pdf));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains("size:"))
        .map(|l| {
            let dims = l.split("size:").nth(1).unwrap().trim();
            let mut it = dims.split_whitespace();
            let w: f64 = it.next().unwrap().parse().unwrap();
            it.next(); // x
            let h: f64 = it.next().unwrap().parse().unwrap();
            (w, h)
        })
        .collect()
}

/// Words from `pdftotext -bbox` whose box leaves the printable width.
fn words_outside_margins(pdf: &Path) -> Vec<String> {
    let out = run(Command::new("pdftotext").arg("-bbox").arg(pdf).arg("-"));
    let text = String::from_utf8_lossy(&out.stdout);
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let i = tag.find(&key).unwrap() + key.len();
        tag[i..].split('"').next().unwrap().parse().unwrap()
    };
    let mut bad = Vec::new();
    for (page, chunk) in text.split("<page ").skip(1).enumerate() {
        for w in chunk.split("<word ").skip(1) {
            let (x0, x1) = (attr(w, "xMin"), attr(w, "xMax"));
            if x0 < MARGIN_PT - 1.5 || x1 > A4.0 - MARGIN_PT + 1.5 {
                let word = w
                    .split('>')
                    .nth(1)
                    .unwrap_or("")
                    .split('<')
                    .next()
                    .unwrap_or("");
                bad.push(format!("page {} x {x0:.1}–{x1:.1}: {word}", page + 1));
            }
        }
    }
    bad
}

/// Elements wider than the page: the handout is laid out at the printable width (screen CSS
/// gives the body 184 mm, A4 less the margins), and a script lists every element sticking out of
/// the body or scrolling sideways. Chromium shrinks wide pages to fit when printing, so the PDF
/// alone would not show this.
fn overflowing_elements(html_path: &Path, profile: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(html_path).unwrap();
    let probe = r#"<script>
(function () {
  var body = document.body.getBoundingClientRect();
  var bad = [];
  var all = document.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var e = all[i];
    var r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    var name = e.tagName + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + e.className : '');
    if (r.right > body.right + 0.5 || r.left < body.left - 0.5) bad.push(name + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    if (e.tagName === 'TABLE' && e.scrollWidth > e.clientWidth + 1) bad.push(name + ' scrolls ' + e.scrollWidth + '>' + e.clientWidth);
  }
  var out = document.createElement('pre');
  out.id = 'overflow-probe';
  out.textContent = 'BODY ' + Math.round(body.width) + '\n' + bad.slice(0, 50).join('\n');
  document.body.appendChild(out);
})();
</script></body>"#;
    let probed = html.replace("</body>", probe);
    let path = html_path.with_file_name("probe.html");
    std::fs::write(&path, probed).unwrap();
    let out = run(chromium(profile)
        .args(["--window-size=1000,1400", "--dump-dom"])
        .arg(format!("file://{}", path.display())));
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom
        .find("<pre id=\"overflow-probe\">")
        .expect("the probe ran");
    let report = &dom[start..];
    let report = &report[report.find('>').unwrap() + 1..report.find("</pre>").unwrap()];
    let mut lines = report.lines();
    let body_width: f64 = lines
        .next()
        .unwrap()
        .trim_start_matches("BODY ")
        .parse()
        .unwrap();
    // 184 mm at 96 px/in.
    assert!(
        (body_width - 184.0 / 25.4 * 96.0).abs() < 2.0,
        "body is {body_width}px wide"
    );
    lines.map(str::to_owned).collect()
}

#[test]
fn handouts_print_to_a4_without_overflow() {
    for (survey, n, min_cell) in [
        ("homecare-clinic", 200, 0),
        ("dental", 200, 3),
        ("visiting-nurse", 200, 0),
    ] {
        let (html_path, _) = handout(survey, n, min_cell);
        let dir = artifacts(survey);
        let profile = tempfile::tempdir().unwrap();

        let overflow = overflowing_elements(&html_path, profile.path());
        assert!(
            overflow.is_empty(),
            "{survey}: elements wider than the page:\n{}",
            overflow.join("\n")
        );

        let pdf = dir.join("handout.pdf");
        let _ = std::fs::remove_file(&pdf);
        run(chromium(profile.path())
            .arg("--no-pdf-header-footer")
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", html_path.display())));
        let sizes = page_sizes(&pdf);
        assert!(sizes.len() >= 5, "{survey}: only {} pages", sizes.len());
        for (i, (w, h)) in sizes.iter().enumerate() {
            assert!(
                (w - A4.0).abs() < 1.0 && (h - A4.1).abs() < 1.0,
                "{survey}: page {} is {w}×{h} pt, not A4 portrait",
                i + 1
            );
        }
        let outside = words_outside_margins(&pdf);
        assert!(
            outside.is_empty(),
            "{survey}: text outside the margins:\n{}",
            outside.join("\n")
        );

        // Page images to look at.
        for f in std::fs::read_dir(&dir).unwrap().flatten() {
            if f.path().extension().is_some_and(|x| x == "png") {
                std::fs::remove_file(f.path()).ok();
            }
        }
        run(Command::new("pdftoppm")
            .args(["-r", "60", "-png"])
            .arg(&pdf)
            .arg(dir.join("page")));
        eprintln!(
            "{survey}: {} A4 pages, images in {}",
            sizes.len(),
            dir.display()
        );
    }
}
