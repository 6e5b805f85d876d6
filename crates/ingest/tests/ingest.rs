//! Scan ingest over simulated faxes, on SQLite and (with CAPSURVEY_TEST_POSTGRES) PostgreSQL:
//! what is sure is stored and right, what is not is queued, nothing is lost or doubled.

use std::path::{Path, PathBuf};

use capsurvey_faxsim::{
    PageCode, Profile, TiffCompression, Unidentifiable, random_answers, simulate_reply_pages,
    simulate_unidentifiable, write_jpeg, write_pdf, write_tiff,
};
use capsurvey_ingest::{IngestOptions, Outcome, Summary, ingest};
use capsurvey_store::entity::{answers, facilities, responses, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use capsurvey_store::testing::{TestDb, each_backend};
use capsurvey_store::{Store, create_mailings, decode_value, register_survey};

struct World {
    sv: i64,
    mailings: Vec<i64>,
    facilities: Vec<i64>,
    dir: tempfile::TempDir,
    parsed: capsurvey_survey::Parsed,
}

async fn world(store: &Store) -> World {
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .unwrap();
    let sv = register_survey(store.db(), &parsed, "test")
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for (code, name) in [("1310000001", "テスト歯科"), ("1310000002", "見本歯科医院")] {
        let f = facilities::ActiveModel {
            code: Set(code.into()),
            facility_type: Set("dental".into()),
            name: Set(name.into()),
            created_at: Set(capsurvey_store::now()),
            updated_at: Set(capsurvey_store::now()),
            ..Default::default()
        }
        .insert(store.db())
        .await
        .unwrap();
        ids.push(f.id);
    }
    let mailings = create_mailings(
        store.db(),
        sv,
        "dental",
        "test",
        "initial",
        &[Some(ids[0]), Some(ids[1]), None],
        "test",
    )
    .await
    .unwrap()
    .into_iter()
    .map(|m| m.id)
    .collect();
    World {
        sv,
        mailings,
        facilities: ids,
        dir: tempfile::tempdir().unwrap(),
        parsed,
    }
}

/// Simulated replies: mailing 0 complete as a fine G4 TIFF, mailing 1 only its first question
/// page as a standard-resolution PDF, the blank form's first page as PNG, a foreign page.
fn write_replies(w: &World) -> Vec<PathBuf> {
    let survey = &w.parsed.survey;
    let layout = capsurvey_forms::form::layout(survey, &w.parsed.content_hash);
    let reply = |mailing: i64, profile: Profile, seed: u64| {
        let answers = random_answers(survey, seed);
        let code = |page| PageCode {
            survey_version_id: w.sv as u32,
            mailing_id: mailing as u32,
            page,
        };
        simulate_reply_pages(&layout, survey, code, &answers, profile, seed)
    };
    let dir = w.dir.path();
    let mut files = Vec::new();
    let complete = reply(w.mailings[0], Profile::FaxFine, 11);
    let pics: Vec<_> = complete.iter().map(|p| p.picture()).collect();
    files.push(save(
        dir,
        "complete.tif",
        write_tiff(&pics, TiffCompression::G4),
    ));
    for (i, p) in complete.iter().enumerate() {
        std::fs::write(
            dir.join(format!("complete.page{i}.json")),
            p.truth.to_json(),
        )
        .unwrap();
    }
    // A 300-dpi grey scan in a PDF (DCT): read at 150 dpi.
    let partial = reply(w.mailings[1], Profile::Scan300Grey, 12);
    let first_questions = partial
        .iter()
        .find(|p| p.truth.layout_page != Some(1))
        .unwrap();
    files.push(save(
        dir,
        "partial.pdf",
        write_pdf(&[first_questions.picture()]),
    ));
    // A 300-dpi grey JPEG scan: decoded at half scale, and read again at the same scale once
    // a person has said whose form it is.
    let blank = reply(w.mailings[2], Profile::Scan300Grey, 13);
    let blank_page = blank
        .iter()
        .find(|p| p.truth.layout_page == Some(2))
        .unwrap();
    files.push(save(
        dir,
        "blank-form.jpg",
        write_jpeg(blank_page.picture(), 85),
    ));
    let foreign = simulate_unidentifiable(Unidentifiable::Foreign, Profile::FaxStandard, 14);
    files.push(save(
        dir,
        "letter.tif",
        write_tiff(&[foreign.picture()], TiffCompression::G4),
    ));
    files
}

fn save(dir: &Path, name: &str, bytes: Vec<u8>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

async fn run(store: &Store, w: &World, files: &[PathBuf]) -> Summary {
    let opts = IngestOptions::new("test", w.dir.path().join("data"));
    ingest(store, files, &opts, &mut |_| {}).await.unwrap()
}

async fn counts(db: &TestDb) -> (u64, u64, u64, u64) {
    let c = db.store.db();
    (
        scanned_pages::Entity::find().count(c).await.unwrap(),
        answers::Entity::find().count(c).await.unwrap(),
        review_tasks::Entity::find().count(c).await.unwrap(),
        responses::Entity::find().count(c).await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn faxes_are_read_queued_and_never_doubled() {
    each_backend(|db| async move {
        let w = world(&db.store).await;
        let files = write_replies(&w);
        let s = run(&db.store, &w, &files).await;
        let b = db.backend;
        assert!(
            s.files.iter().all(|f| f.outcome == Outcome::Imported),
            "{b}: {:?}",
            s.files
        );
        let t = s.totals;
        assert_eq!(t.page_errors, 0, "{b}");
        // The foreign letter and the blank form's page wait for a person.
        assert_eq!(t.unidentified, 2, "{b}: {:?}", s.files);
        assert!(t.identified >= 4, "{b}: {t:?}");
        assert!(t.fields_decided > 20, "{b}: {t:?}");

        // Everything decided matches what the respondent meant.
        let complete = responses::Entity::find()
            .filter(responses::Column::MailingId.eq(w.mailings[0]))
            .one(db.store.db())
            .await
            .unwrap()
            .expect("a response for the complete reply");
        assert_eq!(complete.status, "complete", "{b}");
        assert_eq!(complete.facility_id, w.facilities[0]);
        let stored = answers::Entity::find()
            .filter(answers::Column::ResponseId.eq(complete.id))
            .all(db.store.db())
            .await
            .unwrap();
        let mut checked = 0;
        for i in 0.. {
            let Ok(text) =
                std::fs::read_to_string(w.dir.path().join(format!("complete.page{i}.json")))
            else {
                break;
            };
            let truth = capsurvey_faxsim::PageTruth::from_json(&text).unwrap();
            for f in &truth.fields {
                let Some(a) = stored.iter().find(|a| a.field_key == f.key) else {
                    panic!(
                        "{b}: field {} of page {i} has no stored answer or task",
                        f.key
                    );
                };
                assert_eq!(a.source_kind, "scan");
                assert!(a.scanned_page_id.is_some());
                assert!(a.source_ref.contains("complete.tif p"), "{}", a.source_ref);
                if a.status == "accepted" {
                    assert_eq!(
                        decode_value(&a.value).unwrap(),
                        f.value,
                        "{b}: field {}",
                        f.key
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10, "{b}: only {checked} fields checked");

        // The partial reply is listed with its missing pages; its response is partial.
        assert_eq!(s.missing.len(), 1, "{b}: {:?}", s.missing);
        assert_eq!(s.missing[0].mailing_id, w.mailings[1]);
        assert!(!s.missing[0].missing.is_empty());

        // Review tasks carry images that exist.
        let tasks = review_tasks::Entity::find()
            .all(db.store.db())
            .await
            .unwrap();
        let data = w.dir.path().join("data");
        for t in &tasks {
            let p: serde_json::Value = serde_json::from_str(&t.payload).unwrap();
            for key in ["crop", "image"] {
                if let Some(rel) = p[key].as_str() {
                    assert!(
                        data.join(rel).is_file(),
                        "{b}: task {} {key} {rel} missing",
                        t.kind
                    );
                }
            }
        }
        let pages = tasks.iter().filter(|t| t.kind == "page").count();
        assert_eq!(pages, 2, "{b}");
        let blank = tasks
            .iter()
            .find(|t| t.kind == "page" && t.survey_version_id == Some(w.sv))
            .expect("the blank form's page task knows its survey");

        // The same files again: nothing changes.
        let before = counts(&db).await;
        let again = run(&db.store, &w, &files).await;
        assert!(
            again
                .files
                .iter()
                .all(|f| matches!(f.outcome, Outcome::Skipped { .. })),
            "{b}: {:?}",
            again.files
        );
        assert_eq!(counts(&db).await, before, "{b}");

        // The same pages in another container: identified as received before.
        let copy = w.dir.path().join("copy.pdf");
        let first: Vec<_> = capsurvey_scan::open(&files[0])
            .unwrap()
            .map(|p| p.unwrap())
            .collect();
        let pics: Vec<capsurvey_faxsim::Picture> = first.iter().map(Into::into).collect();
        std::fs::write(&copy, write_pdf(&pics)).unwrap();
        let dup = run(&db.store, &w, std::slice::from_ref(&copy)).await;
        assert_eq!(
            dup.totals.duplicates,
            first.len() as u64,
            "{b}: {:?}",
            dup.files
        );
        assert_eq!(counts(&db).await.1, before.1, "{b}: answers changed");

        // A person says which facility filled in the blank form: its page is read then.
        capsurvey_store::review::assign_page(
            db.store.db(),
            blank.scanned_page_id.unwrap(),
            w.sv,
            w.facilities[1],
            2,
            "staff",
        )
        .await
        .unwrap();
        let opts = IngestOptions::new("test", w.dir.path().join("data"));
        let catalog = capsurvey_ingest::Catalog::load(db.store.db())
            .await
            .unwrap();
        let rr = capsurvey_ingest::reread::reread_assigned(&db.store, &catalog, &opts)
            .await
            .unwrap();
        assert_eq!(rr.pages, 1, "{b}: {rr:?}");
        assert!(rr.fields_decided > 0, "{b}: {rr:?}");
        let page = capsurvey_store::page_by_id(db.store.db(), blank.scanned_page_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.status, "identified");
        db
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_file_is_reported_and_the_rest_goes_on() {
    each_backend(|db| async move {
        let w = world(&db.store).await;
        let files = write_replies(&w);
        let bytes = std::fs::read(&files[0]).unwrap();
        let truncated = save(
            w.dir.path(),
            "truncated.tif",
            bytes[..bytes.len() / 3].to_vec(),
        );
        let empty = save(w.dir.path(), "empty.pdf", Vec::new());
        let list = vec![truncated.clone(), empty.clone(), files[1].clone()];
        let s = run(&db.store, &w, &list).await;
        let b = db.backend;
        assert!(s.had_errors());
        let t = &s.files[0];
        assert!(
            t.errors.iter().any(|e| e.contains("truncated.tif")),
            "{b}: {:?}",
            t
        );
        match &s.files[1].outcome {
            Outcome::Failed { error } => assert!(error.contains("empty.pdf"), "{error}"),
            o => panic!("{b}: {o:?}"),
        }
        assert_eq!(s.files[2].outcome, Outcome::Imported);
        assert!(s.files[2].counts.identified >= 1);
        db
    })
    .await;
}

/// A database written before files were known by BLAKE3 holds their SHA-256: such a file is
/// still skipped, while a record of the same size but other bytes does not stand in for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_recorded_by_its_sha256_before_is_still_skipped() {
    each_backend(|db| async move {
        let w = world(&db.store).await;
        let files = write_replies(&w);
        let (known, other) = (&files[3], &files[2]);
        let record = |path: &Path, hash: String| {
            let size = std::fs::metadata(path).unwrap().len();
            let (store, path) = (&db.store, path.display().to_string());
            async move {
                capsurvey_store::record_imported_file(store.db(), "scan", &path, &hash, size)
                    .await
                    .unwrap()
            }
        };
        record(known, capsurvey_store::file_hash(known).unwrap().0).await;
        // Another file's size with a hash that is not its SHA-256.
        record(other, "0".repeat(64)).await;
        let s = run(&db.store, &w, &[known.clone(), other.clone()]).await;
        let b = db.backend;
        match &s.files[0].outcome {
            Outcome::Skipped { previous_path } => {
                assert_eq!(previous_path, &known.display().to_string(), "{b}")
            }
            o => panic!("{b}: {o:?}"),
        }
        assert_eq!(s.files[1].outcome, Outcome::Imported, "{b}");
        db
    })
    .await;
}

/// A second, different fax of the same pages (the facility sent its reply again, filled in
/// differently): a value that differs from the accepted one is queued as a conflict beside it,
/// an equal one changes nothing, and no field ever has two accepted answers.
#[tokio::test]
async fn a_different_copy_of_a_page_is_a_conflict_not_a_replacement() {
    each_backend(|db| async move {
        let store = &db.store;
        let w = world(store).await;
        let survey = &w.parsed.survey;
        let layout = capsurvey_forms::form::layout(survey, &w.parsed.content_hash);
        let copy = |seed: u64, name: &str| {
            let code = |page| PageCode {
                survey_version_id: w.sv as u32,
                mailing_id: w.mailings[0] as u32,
                page,
            };
            let pages = simulate_reply_pages(
                &layout,
                survey,
                code,
                &random_answers(survey, seed),
                Profile::FaxFine,
                seed,
            );
            let pics: Vec<_> = pages.iter().map(|p| p.picture()).collect();
            save(w.dir.path(), name, write_tiff(&pics, TiffCompression::G4))
        };
        let first = copy(31, "first.tif");
        let second = copy(32, "second.tif");

        let s1 = run(store, &w, std::slice::from_ref(&first)).await;
        assert_eq!(s1.totals.conflicts, 0);
        let accepted = |all: Vec<answers::Model>| {
            all.into_iter()
                .filter(|a| a.status == "accepted")
                .map(|a| ((a.response_id, a.field_key.clone()), (a.id, a.value)))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let before = accepted(answers::Entity::find().all(store.db()).await.unwrap());
        assert!(before.len() > 10, "{}: {before:?}", db.backend);

        let s2 = run(store, &w, std::slice::from_ref(&second)).await;
        assert!(
            s2.totals.conflicts > 0,
            "{}: two random fillings of one form disagree somewhere",
            db.backend
        );
        let all = answers::Entity::find().all(store.db()).await.unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for a in all.iter().filter(|a| a.status == "accepted") {
            assert!(
                seen.insert((a.response_id, a.field_key.clone())),
                "{}: two accepted answers for {}",
                db.backend,
                a.field_key
            );
        }
        // What the first copy said stands, untouched.
        let after = accepted(all.clone());
        for (key, value) in &before {
            assert_eq!(after.get(key), Some(value), "{}: {key:?}", db.backend);
        }
        let conflicts = review_tasks::Entity::find()
            .filter(review_tasks::Column::Kind.eq("conflict"))
            .all(store.db())
            .await
            .unwrap();
        assert_eq!(
            conflicts.len() as u64,
            s2.totals.conflicts,
            "{}",
            db.backend
        );
        for t in &conflicts {
            let pending = all.iter().find(|a| Some(a.id) == t.answer_id).unwrap();
            assert_eq!(pending.status, "review");
            assert!(
                pending.source_ref.contains("second.tif"),
                "{}",
                pending.source_ref
            );
            let (_, accepted_value) = &after[&(pending.response_id, pending.field_key.clone())];
            assert_ne!(
                &pending.value, accepted_value,
                "{}: {}",
                db.backend, pending.field_key
            );
        }
        // Values both copies agree on were neither doubled nor queued.
        let decided_twice = s2.totals.fields_decided;
        assert!(decided_twice > 0, "{}", db.backend);
        db
    })
    .await;
}
