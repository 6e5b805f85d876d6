//! Assigning an unidentified page in the review site reads its marks at once: a blank form faxed
//! back (no facility printed) is ingested for real, a person says whose it is, and the page's
//! answers and review items are in the facility's response.

mod common;

use capsurvey_faxsim::{PageCode, Profile, random_answers, simulate_reply_pages, write_tiff};
use capsurvey_store::entity::{answers, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use capsurvey_store::testing::each_backend;
use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_assigned_page_is_read_at_once() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let conn = db.store.db();
        let parsed = capsurvey_survey::parse_survey(
            "dental.toml",
            include_str!("../../../surveys/dental.toml"),
        )
        .unwrap();
        let sv = capsurvey_store::register_survey(conn, &parsed, "test")
            .await
            .unwrap()
            .id;
        let blank =
            capsurvey_store::create_mailings(conn, sv, "dental", "b", "blank", &[None], "t")
                .await
                .unwrap()[0]
                .id;
        let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
        let answers = random_answers(&parsed.survey, 3);
        let code = |page| PageCode {
            survey_version_id: sv as u32,
            mailing_id: blank as u32,
            page,
        };
        let pages =
            simulate_reply_pages(&layout, &parsed.survey, code, &answers, Profile::FaxFine, 3);
        let page2 = pages
            .iter()
            .find(|p| p.truth.layout_page == Some(2))
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let fax = tmp.path().join("walk-in.tif");
        std::fs::write(
            &fax,
            write_tiff(&[page2.picture()], capsurvey_faxsim::TiffCompression::G4),
        )
        .unwrap();
        let opts = capsurvey_ingest::IngestOptions::new("test", f.data.path());
        let s = capsurvey_ingest::ingest(&db.store, &[fax], &opts, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(s.totals.unidentified, 1, "{:?}", s.files);
        let task = review_tasks::Entity::find()
            .filter(review_tasks::Column::Kind.eq("page"))
            .filter(review_tasks::Column::SurveyVersionId.eq(sv))
            .one(conn)
            .await
            .unwrap()
            .expect("a page task for the blank form");

        let server = start(&db.store, f.data.path()).await;
        let (c, csrf) = logged_in(&server.url, "tanaka").await;
        let (status, _, body) = post(
            &c,
            &format!("{}/tasks/{}/assign", server.url, task.id),
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "assign"),
                ("facility", "1331234567"),
                ("survey_version", &sv.to_string()),
                ("page", "2"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{body}");
        let page = scanned_pages::Entity::find_by_id(task.scanned_page_id.unwrap())
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.status, "identified", "{}", db.backend);
        let read = answers::Entity::find()
            .filter(answers::Column::ScannedPageId.eq(page.id))
            .all(conn)
            .await
            .unwrap();
        assert!(
            read.iter()
                .any(|a| a.status == "accepted" && a.source_kind == "scan"),
            "{}: {read:?}",
            db.backend
        );
        db
    })
    .await;
}
