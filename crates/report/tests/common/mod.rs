//! Helpers shared by the report tests: reading rows back out of rendered HTML, and the external
//! tools (Java with vnu.jar, Chromium, poppler).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The texts of the cells (`<td>`) of the table row or cell with this id, tags stripped.
pub fn row_cells(html: &str, id: &str) -> Vec<String> {
    let needle = format!("id=\"{id}\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no element with id {id} in the handout"));
    let rest = &html[start..];
    let end = rest.find("</tr>").unwrap_or(rest.len());
    let row = &rest[..end];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let body = &cell[cell.find('>').map_or(0, |i| i + 1)..];
            let body = body.split("</td>").next().unwrap_or("");
            strip_tags(body)
        })
        .collect()
}

/// Text with tags removed and whitespace trimmed.
pub fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// Where tests put files a person may want to look at (PDFs, page images).
pub fn artifacts(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool_missing(what: &str, install: &str) -> ! {
    panic!(
        "{what} is needed by this test and was not found.\n  install: {install}\n  (see docs/handouts.md, Tests)"
    )
}

/// Runs a command, failing the test with its output if it fails.
pub fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| tool_missing(&format!("{cmd:?} ({e})"), "see docs/handouts.md"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The Nu Html Checker jar, installed with `npm ci` from tests/package.json when missing.
pub fn vnu_jar() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let jar = dir.join("node_modules/vnu-jar/build/dist/vnu.jar");
    if !jar.is_file() {
        // Serialise installs of parallel tests in the same process.
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = LOCK.lock().unwrap();
        if !jar.is_file() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|_| tool_missing("npm", "apt-get install nodejs npm"));
            assert!(status.success(), "npm ci in {} failed", dir.display());
        }
    }
    if Command::new("java").arg("-version").output().is_err() {
        tool_missing("java", "apt-get install default-jre-headless");
    }
    jar
}

/// Chromium's headless flags for a run that must not touch the network or a profile.
pub fn chromium(profile: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.args([
        "180",
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The count printed in the cell with this id (`<td id=…><span class="c">12</span>…`).
pub fn cell_count(html: &str, id: &str) -> String {
    let needle = format!("id=\"{id}\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no element with id {id} in the handout"));
    let rest = &html[start..];
    let c = rest.find("class=\"c\">").expect("a count span") + "class=\"c\">".len();
    rest[c..].split('<').next().unwrap_or("").trim().to_owned()
}

/// The text of the cell with class `class` (`c` count, `p` share) in the row with this id.
pub fn row_cell(html: &str, id: &str, class: &str) -> String {
    let needle = format!("id=\"{id}\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no element with id {id} in the handout"));
    let rest = &html[start..];
    let row = &rest[..rest.find("</tr>").unwrap_or(rest.len())];
    let marker = format!("class=\"num {class}\">");
    let i = row
        .find(&marker)
        .unwrap_or_else(|| panic!("no {class} cell in row {id}"))
        + marker.len();
    strip_tags(row[i..].split("</td>").next().unwrap_or(""))
}
