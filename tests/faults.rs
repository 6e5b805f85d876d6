//! Killed in the middle (SIGKILL, no chance to clean up) of a scan ingest and of a CSV import,
//! at several points: the database stays consistent, and running the same command again ends
//! with exactly what one uninterrupted run stores. On SQLite, and on PostgreSQL when
//! CAPSURVEY_TEST_POSTGRES is set.

use std::collections::HashSet;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use capsurvey_faxsim::inbox::{Channel, Reply, write_inbox};
use capsurvey_store::Store;
use capsurvey_store::entity::{answers, facilities, imported_files, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Set, Statement,
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
    prepare(&db.spec, tmp, db.backend);
    db
}

/// The dental roster and forms into the database `spec`; the forms go to `tmp/forms-{label}`.
fn prepare(spec: &str, tmp: &Path, label: &str) {
    let roster = repo().join("fixtures/roster/03-1_dental_facility_info_20260601.csv");
    complete(
        spec,
        &tmp.join("data"),
        &["roster", "import", roster.to_str().unwrap()],
    );
    let campaign = repo().join("fixtures/campaign.toml");
    let forms = tmp.join(format!("forms-{label}"));
    complete(
        spec,
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
}

/// Simulated replies to the first `n` dental mailings of `store`, channels taken in turn,
/// written to `inbox`.
async fn write_replies(store: &Store, inbox: &Path, n: usize, channels: &[Channel]) {
    let versions = capsurvey_store::survey_versions(store.db()).await.unwrap();
    let v = &versions[0];
    let survey = capsurvey_store::stored_definition(v).unwrap();
    let layout = capsurvey_forms::form::layout(&survey, &v.content_hash);
    let mailings = capsurvey_store::mailings_of(store.db(), v.id)
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
        write_replies(&reference.store, &inbox, 12, &channels).await;
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

/// A reply CSV of `rows` dental replies, facility codes `99` + the row's index.
fn write_replies_csv(path: &Path, rows: usize) {
    let mut text = String::from("survey,facility_code,q08,q12,q13,q16\n");
    for i in 0..rows {
        text += &format!("dental,99{i:08},{},はい,{},1;3\n", 1 + i % 3, 1 + i % 3);
    }
    std::fs::write(path, text).unwrap();
}

/// The facilities [`write_replies_csv`] names.
async fn insert_csv_facilities(conn: &DatabaseConnection, rows: usize) {
    let models = (0..rows).map(|i| facilities::ActiveModel {
        code: Set(format!("99{i:08}")),
        facility_type: Set("dental".into()),
        name: Set(format!("歯科{i}")),
        created_at: Set(capsurvey_store::now()),
        updated_at: Set(capsurvey_store::now()),
        ..Default::default()
    });
    facilities::Entity::insert_many(models)
        .exec(conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_csv_import_completes_on_the_next_run() {
    for pg in backends() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = tmp.path().join("replies.csv");
        write_replies_csv(&csv, 3000);
        let setup = |db: TestDb| async move {
            insert_csv_facilities(db.store.db(), 3000).await;
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
            &reference.store,
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
    write_replies(&db.store, &inbox, 1, &[Channel::FaxFine]).await;
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

// A full disk. The database and the data folder (page images, crops) go on a filesystem that
// fills up: a small tmpfs where the tests may mount one (root, as on this machine and in CI),
// else a limit on the size of any file the command writes (RLIMIT_FSIZE), which fails a write
// with EFBIG the way a full disk fails it with ENOSPC.

/// How a test fills a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    Tmpfs,
    FileSizeLimit,
}

/// A tmpfs where mounting one works, else the file size limit.
fn fill_mode() -> Fill {
    static MODE: OnceLock<Fill> = OnceLock::new();
    *MODE.get_or_init(|| {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Fill::FileSizeLimit;
        }
        let probe = tempfile::tempdir().unwrap();
        if mount(probe.path(), 1 << 20) {
            unmount(probe.path());
            Fill::Tmpfs
        } else {
            Fill::FileSizeLimit
        }
    })
}

fn mount(at: &Path, size: u64) -> bool {
    Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
        ])
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn unmount(at: &Path) {
    let done = Command::new("umount")
        .arg(at)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !done {
        // Still in use (a connection not closed yet): detach it now, it goes once released.
        Command::new("umount").arg("-l").arg(at).status().ok();
    }
}

/// A place that is full after `size` bytes, until [`SmallDisk::make_room`]. A tmpfs is
/// unmounted when this is dropped, also when the test fails.
struct SmallDisk {
    dir: tempfile::TempDir,
    fill: Fill,
    size: u64,
    limited: bool,
    mounted: bool,
}

impl SmallDisk {
    fn new(fill: Fill, size: u64) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let mounted = fill == Fill::Tmpfs;
        if mounted {
            assert!(mount(dir.path(), size), "cannot mount a tmpfs");
        }
        SmallDisk {
            dir,
            fill,
            size,
            limited: true,
            mounted,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// [`command`] under the file size limit while it holds (a tmpfs limits itself).
    fn command(&self, spec: &str, data: &Path, args: &[&str]) -> Command {
        let mut c = command(spec, data, args);
        if self.fill == Fill::FileSizeLimit && self.limited {
            let limit = self.size as libc::rlim_t;
            // SAFETY: signal and setrlimit are async-signal-safe, as pre_exec requires.
            unsafe {
                c.pre_exec(move || {
                    // Ignored, SIGXFSZ would kill the process; so the write fails with EFBIG.
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    let r = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        c
    }

    /// Frees space: the tmpfs grows in place (its files stay where they are), the limit goes.
    fn make_room(&mut self) {
        if self.mounted {
            let grown = Command::new("mount")
                .args(["-o", "remount,size=2g"])
                .arg(self.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(grown, "cannot grow the tmpfs");
        }
        self.limited = false;
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            unmount(self.dir.path());
        }
    }
}

/// The files under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// What the files under `dir` take on a tmpfs (whole 4 KiB pages).
fn usage(dir: &Path) -> u64 {
    files_under(dir)
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len().div_ceil(4096) * 4096))
        .sum()
}

/// Runs a command to its end; its exit status and everything it printed.
fn run(mut c: Command) -> (bool, String) {
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The error lines of a run that name `file` and say the disk is full, with the way out
/// (SQLite reports a write refused by the file size limit as a "disk I/O error", whose hint
/// says "if the disk is full").
fn full_disk_errors<'a>(text: &'a str, file: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| {
            l.starts_with("error:")
                && l.contains(file)
                && l.contains("the disk is full")
                && l.contains("free space and run the same command again")
        })
        .collect()
}

async fn open(spec: &str) -> Store {
    Store::open(spec).await.unwrap()
}

/// Closes the test's own connections (a tmpfs in use cannot be unmounted).
async fn close(store: Store) {
    store.db().clone().close().await.ok();
}

/// Review tasks that show a crop, and quality checks that do not: a task made without its crop
/// would show the whole page instead, and a rerun would not mend it. (Quality checks are counted
/// the other way round because which answers are sampled depends on their ids.)
async fn tasks_with_crops(store: &Store) -> (u64, u64) {
    let tasks = review_tasks::Entity::find().all(store.db()).await.unwrap();
    let has_crop = |t: &review_tasks::Model| t.payload.contains("\"crop\":\"");
    (
        tasks
            .iter()
            .filter(|t| t.kind != "quality" && has_crop(t))
            .count() as u64,
        tasks
            .iter()
            .filter(|t| t.kind == "quality" && !has_crop(t))
            .count() as u64,
    )
}

/// Nothing half-written: SQLite's own check passes, every stored page belongs to a committed
/// file and its image is there, every image a task shows is there, and no temporary image is
/// left behind.
async fn assert_nothing_half_written(store: &Store, data: &Path, what: &str) {
    let db = store.db();
    if db.get_database_backend() == DbBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        let check: String = row.try_get_by_index(0).unwrap();
        assert_eq!(check, "ok", "{what}: integrity_check");
    }
    let files: HashSet<i64> = imported_files::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    for p in scanned_pages::Entity::find().all(db).await.unwrap() {
        assert!(
            p.imported_file_id.is_some_and(|f| files.contains(&f)),
            "{what}: page {} of {} belongs to no committed file",
            p.page_index + 1,
            p.source_file
        );
        if let Some(image) = &p.image_path {
            // Relative to the data folder.
            assert!(
                data.join(image).is_file(),
                "{what}: page {} of {} has no image {image}",
                p.page_index + 1,
                p.source_file
            );
        }
    }
    for t in review_tasks::Entity::find().all(db).await.unwrap() {
        let payload: serde_json::Value = serde_json::from_str(&t.payload).unwrap();
        for key in ["crop", "image"] {
            if let Some(image) = payload[key].as_str() {
                assert!(
                    data.join(image).is_file(),
                    "{what}: task {} ({}) shows {image}, which is missing",
                    t.id,
                    t.kind
                );
            }
        }
    }
    let parts: Vec<PathBuf> = files_under(data)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect();
    assert!(
        parts.is_empty(),
        "{what}: half-written images left: {parts:?}"
    );
}

/// `scan ingest` of twelve files with the SQLite database and the data folder on a disk that
/// fills up part-way.
async fn scan_ingest_on_a_disk_that_fills_up(fill: Fill) {
    let tmp = tempfile::tempdir().unwrap();
    let channels = [Channel::FaxStandard, Channel::FaxFine, Channel::Scan];
    let inbox = tmp.path().join("inbox");
    let args = ["scan", "ingest", inbox.to_str().unwrap()];

    // One run with room, to know what it stores and how much space it takes.
    let roomy = tmp.path().join("roomy");
    std::fs::create_dir_all(&roomy).unwrap();
    let spec = roomy.join("capsurvey.db").display().to_string();
    prepare(&spec, tmp.path(), "roomy");
    // The test's own connection stays open, as it does on the small disk, so that the
    // write-ahead log is kept and counted alike.
    let store = open_with_empty_log(&spec).await;
    write_replies(&store, &inbox, 12, &channels).await;
    let before = usage(&roomy);
    complete(&spec, &roomy.join("data"), &args);
    let after = usage(&roomy);
    let want = state(&store).await;
    let want_crops = tasks_with_crops(&store).await;
    let size = half_the_room(fill, &roomy, before, after);
    close(store).await;
    let mut disk = SmallDisk::new(fill, size);
    let spec = disk.path().join("capsurvey.db").display().to_string();
    let data = disk.path().join("data");
    prepare(&spec, tmp.path(), "small");
    let store = open_with_empty_log(&spec).await;
    let what = format!("{fill:?}");
    ingest_on_a_full_disk(&mut disk, &spec, &data, &inbox, &store, &what).await;
    assert_eq!(state(&store).await, want, "{what}: after the rerun");
    assert_eq!(tasks_with_crops(&store).await, want_crops, "{what}");
    assert_quality_sample(&store).await;
    close(store).await;
}

/// Opens the SQLite database `spec` with its write-ahead log back to nothing (see [`empty_log`]).
async fn open_with_empty_log(spec: &str) -> Store {
    let store = open(spec).await;
    empty_log(&store).await;
    store
}

/// Folds SQLite's write-ahead log into the database and truncates it, so that what the log holds
/// afterwards is what the next run adds.
async fn empty_log(store: &Store) {
    store
        .db()
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
}

/// The size of a disk with room for about half of what a run wrote into `roomy` (`before` and
/// `after` bytes in use there): a tmpfs that much larger than what was there, or a file size
/// limit of half the largest file (the database's write-ahead log, which grows most). Measured
/// while the run's database is still open, so that its log is counted.
fn half_the_room(fill: Fill, roomy: &Path, before: u64, after: u64) -> u64 {
    let largest = files_under(roomy)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .max()
        .unwrap();
    eprintln!("{fill:?}: before {before}, after {after}, largest file {largest}");
    match fill {
        Fill::Tmpfs => before + (after - before) / 2,
        Fill::FileSizeLimit => largest / 2,
    }
}

/// Runs `scan ingest inbox` on the full disk and checks that it fails part-way, naming every
/// file it could not store with the way out, with nothing half-written; then makes room and
/// runs it again, which must succeed.
async fn ingest_on_a_full_disk(
    disk: &mut SmallDisk,
    spec: &str,
    data: &Path,
    inbox: &Path,
    store: &Store,
    what: &str,
) {
    let args = ["scan", "ingest", inbox.to_str().unwrap()];
    let (ok, text) = run(disk.command(spec, data, &args));
    assert!(!ok, "{what}: the full disk went unnoticed:\n{text}");
    disk.make_room();
    let stored: HashSet<String> = imported_files::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    let names: Vec<String> = files_under(inbox)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_nothing_half_written(store, data, &format!("{what} after the full disk")).await;
    let refused: Vec<&String> = names.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(
        !refused.is_empty() && refused.len() < names.len(),
        "{what}: the disk should fill part-way, {} of {} files stored:\n{text}",
        stored.len(),
        names.len()
    );
    for name in &refused {
        assert!(
            !full_disk_errors(&text, name).is_empty(),
            "{what}: {name} was not stored and not named as refused for want of space:\n{text}"
        );
    }

    // With room again, the same command finishes the job.
    let (ok, text) = run(disk.command(spec, data, &args));
    assert!(ok, "{what}: the rerun failed:\n{text}");
    assert_nothing_half_written(store, data, &format!("{what} after the rerun")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_during_scan_ingest_is_a_clear_error_and_the_rerun_completes() {
    scan_ingest_on_a_disk_that_fills_up(fill_mode()).await;
}

/// The fallback where no tmpfs can be mounted. Once failed in one run of four: files reported
/// as stored after SQLite's write-ahead log hit the limit were gone, because a connection whose
/// transaction SQLite had ended went back to the pool, and its later "commits" were savepoints
/// inside a transaction that never committed (see `capsurvey_store`'s SQLite settings).
#[tokio::test(flavor = "multi_thread")]
async fn a_file_size_limit_during_scan_ingest_is_a_clear_error_and_the_rerun_completes() {
    scan_ingest_on_a_disk_that_fills_up(Fill::FileSizeLimit).await;
}

/// `replies import` of a CSV with the SQLite database on a disk too full for it.
async fn csv_import_on_a_full_disk(fill: Fill) {
    const ROWS: usize = 2000;
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("replies.csv");
    write_replies_csv(&csv, ROWS);
    let setup = |spec: String| async move {
        let store = open(&spec).await;
        insert_csv_facilities(store.db(), ROWS).await;
        empty_log(&store).await;
        store
    };
    let args = [
        "replies",
        "import",
        csv.to_str().unwrap(),
        "--survey",
        "dental",
    ];

    let roomy = tmp.path().join("roomy");
    std::fs::create_dir_all(&roomy).unwrap();
    let spec = roomy.join("capsurvey.db").display().to_string();
    let store = setup(spec.clone()).await;
    let before = usage(&roomy);
    complete(&spec, &roomy.join("data"), &args);
    let after = usage(&roomy);
    let want = state(&store).await;
    let size = half_the_room(fill, &roomy, before, after);
    close(store).await;
    let mut disk = SmallDisk::new(fill, size);
    let spec = disk.path().join("capsurvey.db").display().to_string();
    let data = disk.path().join("data");
    let store = setup(spec.clone()).await;
    let (ok, out) = run(disk.command(&spec, &data, &args));
    assert!(!ok, "{fill:?}: the full disk went unnoticed:\n{out}");
    assert!(
        !full_disk_errors(&out, csv.to_str().unwrap()).is_empty(),
        "{fill:?}: the file is not named as refused for want of space:\n{out}"
    );
    disk.make_room();
    assert_nothing_half_written(&store, &data, &format!("{fill:?}")).await;
    let empty = state(&store).await.iter().all(|(_, n)| *n == 0);
    assert!(empty, "{fill:?}: half-imported: {:?}", state(&store).await);

    let (ok, out) = run(disk.command(&spec, &data, &args));
    assert!(ok, "{fill:?}: the rerun failed:\n{out}");
    assert_eq!(state(&store).await, want, "{fill:?}: after the rerun");
    close(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_during_csv_import_is_a_clear_error_and_the_rerun_completes() {
    csv_import_on_a_full_disk(fill_mode()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_size_limit_during_csv_import_is_a_clear_error_and_the_rerun_completes() {
    csv_import_on_a_full_disk(Fill::FileSizeLimit).await;
}

/// Only the data folder is full; the database (SQLite elsewhere, PostgreSQL) has room: each file
/// whose image cannot be written is rolled back, so no page row points at a missing image.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_data_folder_rolls_the_file_back() {
    let fill = fill_mode();
    for pg in backends() {
        if fill == Fill::FileSizeLimit && !pg {
            // The limit would hold for the SQLite file of the same process too: that case is
            // a_file_size_limit_during_scan_ingest_is_a_clear_error_and_the_rerun_completes.
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let reference = prepared(tmp.path(), pg).await;
        let inbox = tmp.path().join("inbox");
        let channels = [Channel::FaxStandard, Channel::FaxFine, Channel::Scan];
        write_replies(&reference.store, &inbox, 12, &channels).await;
        let roomy = tmp.path().join("roomy-data");
        complete(
            &reference.spec,
            &roomy,
            &["scan", "ingest", inbox.to_str().unwrap()],
        );
        let want = state(&reference.store).await;
        let want_crops = tasks_with_crops(&reference.store).await;
        reference.cleanup().await;
        let size = match fill {
            Fill::Tmpfs => usage(&roomy) / 2,
            Fill::FileSizeLimit => {
                files_under(&roomy)
                    .iter()
                    .map(|p| std::fs::metadata(p).unwrap().len())
                    .max()
                    .unwrap()
                    / 2
            }
        };

        let db = prepared(tmp.path(), pg).await;
        let mut disk = SmallDisk::new(fill, size);
        let data = disk.path().join("data");
        let what = format!("{fill:?} {}", db.backend);
        ingest_on_a_full_disk(&mut disk, &db.spec, &data, &inbox, &db.store, &what).await;
        assert_eq!(state(&db.store).await, want, "{what}: after the rerun");
        assert_eq!(tasks_with_crops(&db.store).await, want_crops, "{what}");
        assert_quality_sample(&db.store).await;
        db.cleanup().await;
    }
}
