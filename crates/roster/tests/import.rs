//! Importing the fixtures into a fresh database, on SQLite and (with CAPSURVEY_TEST_POSTGRES)
//! on PostgreSQL.

mod common;
#[allow(dead_code)]
#[path = "../examples/make-roster-fixtures.rs"]
mod gen_fixtures;

use std::ops::ControlFlow;

use capsurvey_roster::*;
use capsurvey_store::entity::audit_log;
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use capsurvey_store::testing::{TestDb, each_backend, postgres_url};
use capsurvey_survey::FacilityType;
use common::*;
use gen_fixtures as fx;

async fn another_db(like: &TestDb) -> TestDb {
    match like.backend {
        "postgres" => TestDb::postgres(&postgres_url().expect("postgres url")).await,
        _ => TestDb::sqlite().await,
    }
}

#[tokio::test]
async fn all_fixtures_import_and_reimport_changes_nothing() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let map = area_map();
        let outcomes = import(conn, &fx::FILES, Some(&map)).await;
        let errors: Vec<(String, usize)> = outcomes
            .iter()
            .flat_map(|o| {
                let r = report(o);
                r.errors
                    .iter()
                    .map(|e| (r.path.rsplit('/').next().unwrap().to_owned(), e.line))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            errors,
            [
                ("02-1_clinic_facility_info_20260601.csv".to_owned(), 12),
                ("midori_local_roster.csv".to_owned(), 10)
            ],
            "{}",
            db.backend
        );
        for (t, n) in fx::EXPECTED {
            let rows = list(
                conn,
                &ListFilter {
                    facility_type: Some(t.parse().unwrap()),
                    area: None,
                },
            )
            .await
            .unwrap();
            assert_eq!(rows.len(), n, "{}: {t}", db.backend);
        }
        let layouts: Vec<Layout> = outcomes.iter().map(|o| report(o).layout).collect();
        assert_eq!(
            layouts,
            [
                Layout::Navii,
                Layout::Navii,
                Layout::Kaigo,
                Layout::Kouseikyoku,
                Layout::Kouseikyoku,
                Layout::Local
            ]
        );
        let before = dump(conn).await;
        assert_eq!(before.imported_files, 6);

        // Again: every file is recognised by its content and nothing changes.
        for o in import(conn, &fx::FILES, Some(&map)).await {
            assert!(
                matches!(o, FileOutcome::AlreadyImported { .. }),
                "{}: {o:?}",
                db.backend
            );
        }
        assert_eq!(assign_areas(conn, &map, ACTOR).await.unwrap(), 0);
        assert_eq!(dump(conn).await, before, "{}", db.backend);
        db
    })
    .await;
}

#[tokio::test]
async fn lists_merge_by_code_name_address_and_phone() {
    each_backend(|db| async move {
        let conn = db.store.db();
        import(conn, &fx::FILES, Some(&area_map())).await;

        // Dental 3: ナビイ + bureau + local. Local FAX wins, bureau phone and filings, ナビイ kana.
        let d3 = facility(conn, &fx::dental_code(3)).await;
        assert_eq!(d3.fax.as_deref(), Some("042-999-0003"), "{}", db.backend);
        assert_eq!(d3.phone.as_deref(), Some(fx::dental(3).phone.as_str()));
        assert_eq!(d3.filings.as_deref(), Some("口管強"));
        assert_eq!(d3.name_kana.as_deref(), Some(fx::dental(3).kana.as_str()));
        assert!(d3.latitude.is_some());
        let kinds: Vec<String> = sources_of(conn, d3.id)
            .await
            .into_iter()
            .map(|s| s.source_kind)
            .collect();
        assert_eq!(kinds, ["kouseikyoku", "local", "navii"]);

        // Dental 0: the bureau writes the corporation in front; still one facility.
        let d0 = facility(conn, &fx::dental_code(0)).await;
        assert_eq!(
            d0.name,
            format!("医療法人社団 緑風会 {}", fx::dental(0).name)
        );
        assert_eq!(d0.filings.as_deref(), Some("外安全1;歯援診1"));
        assert_eq!(sources_of(conn, d0.id).await.len(), 2);

        // Dental 2 is only in ナビイ, but the city's list gives its official code: it replaces N….
        let d2 = facility(conn, &fx::dental_code(2)).await;
        assert_eq!(sources_of(conn, d2.id).await.len(), 2);
        // Clinic 1 is only in ナビイ and keeps the provisional code.
        let c1 = facility(conn, &format!("N{}", fx::navii_id(false, 1))).await;
        assert_eq!(c1.name, fx::clinic(1).name);
        assert_eq!(
            (c1.phone.as_deref(), c1.postal_code.as_deref()),
            (None, None)
        );

        let hospital = facility(conn, &fx::clinic_code(99)).await;
        assert_eq!(hospital.facility_type, "homecare-clinic");
        assert_eq!(hospital.filings.as_deref(), Some("在医総管;支援病3"));

        // Station 7: the city's L004 has no code or address, only the phone number.
        let s7 = facility(conn, &fx::station_code(7)).await;
        assert_eq!(
            s7.name,
            format!("{}(サテライト含む)", fx::station(7).name),
            "names are width-folded"
        );
        assert_eq!(
            s7.address
                .as_deref()
                .map(|a| a.starts_with("東京都みどり市")),
            Some(true)
        );
        assert_eq!(sources_of(conn, s7.id).await.len(), 2);

        // The CP932 list reads correctly: ㈱, 髙 and full-width digits.
        let l3 = facility(conn, "L003").await;
        assert_eq!(
            l3.name, "㈱みどりケア訪問看護ステーション",
            "{}",
            db.backend
        );
        assert_eq!(l3.phone.as_deref(), Some("042-958-7705"));
        assert_eq!(l3.facility_type, "visiting-nurse");
        let l1 = facility(conn, "L001").await;
        assert_eq!(l1.name, "髙橋デンタルオフィス");
        assert_eq!(l1.postal_code.as_deref(), Some("199-9901"));
        db
    })
    .await;
}

#[tokio::test]
async fn any_file_order_gives_the_same_roster() {
    each_backend(|db| async move {
        let other = another_db(&db).await;
        import(db.store.db(), &fx::FILES, Some(&area_map())).await;
        let mut reversed = fx::FILES;
        reversed.reverse();
        import(other.store.db(), &reversed, Some(&area_map())).await;
        let view = |rows: Vec<ListRow>| rows;
        let a = view(list(db.store.db(), &ListFilter::default()).await.unwrap());
        let b = view(
            list(other.store.db(), &ListFilter::default())
                .await
                .unwrap(),
        );
        assert_eq!(a, b, "{}", db.backend);
        let filings = |d: common::Dump| {
            let mut v: Vec<(String, Option<String>, Option<String>)> = d
                .facilities
                .into_iter()
                .map(|f| (f.code, f.filings, f.postal_code))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            filings(dump(db.store.db()).await),
            filings(dump(other.store.db()).await)
        );
        other.cleanup().await;
        db
    })
    .await;
}

#[tokio::test]
async fn a_changed_file_updates_and_audits_only_what_changed() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let opts = ImportOptions {
            default_type: None,
            area_map: None,
            actor: "editor",
        };
        let file = fx::FILES[2];
        import(conn, &[file], None).await;
        let audits = capsurvey_store::audit_count(conn).await.unwrap();
        assert_eq!(audits, fx::STATIONS as u64);

        let original = std::fs::read(fixture(file)).unwrap();
        let text = String::from_utf8(original).unwrap();
        let s4 = fx::station(4);
        let changed = text.replace(&s4.phone, "042-950-9999");
        assert_ne!(changed, text);
        let o = import_bytes(
            conn,
            "jigyosho_130_next.csv",
            changed.as_bytes(),
            &opts,
            &mut go_on,
        )
        .await
        .unwrap();
        let r = report(&o);
        assert_eq!(
            (r.created, r.updated, r.unchanged),
            (0, 1, fx::STATIONS - 1),
            "{}",
            db.backend
        );
        let f = facility(conn, &fx::station_code(4)).await;
        assert_eq!(f.phone.as_deref(), Some("042-950-9999"));
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("facility.update"))
            .order_by_asc(audit_log::Column::Id)
            .all(conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].actor, "editor");
        assert_eq!(rows[0].entity_id, Some(f.id));
        let detail: serde_json::Value = serde_json::from_str(&rows[0].detail).unwrap();
        assert_eq!(detail["changes"]["phone"]["before"], s4.phone.as_str());
        assert_eq!(detail["changes"]["phone"]["after"], "042-950-9999");
        assert_eq!(
            detail["source_record"]["raw"]["電話番号"]["after"],
            "042-950-9999"
        );
        assert_eq!(
            detail["changes"].as_object().unwrap().len(),
            1,
            "only the phone changed: {detail}"
        );

        // Another file with the same facilities (rows in another order, so other No and lines):
        // nothing changes and nothing is audited.
        let before = dump(conn).await;
        let mut lines: Vec<&str> = changed.split_inclusive("\r\n").collect();
        lines.swap(1, 2);
        let reordered = lines.concat();
        let o = import_bytes(
            conn,
            "jigyosho_130_reordered.csv",
            reordered.as_bytes(),
            &opts,
            &mut go_on,
        )
        .await
        .unwrap();
        let r = report(&o);
        assert_eq!(
            (r.created, r.updated, r.unchanged),
            (0, 0, fx::STATIONS),
            "{}",
            db.backend
        );
        let after = dump(conn).await;
        assert_eq!(after.facilities, before.facilities);
        assert_eq!(after.sources, before.sources);
        assert_eq!(after.audit_rows, before.audit_rows);
        assert_eq!(after.imported_files, before.imported_files + 1);

        // The same bytes under another name are recognised.
        match import_bytes(conn, "copy.csv", reordered.as_bytes(), &opts, &mut go_on)
            .await
            .unwrap()
        {
            FileOutcome::AlreadyImported { first_path, .. } => {
                assert_eq!(first_path, "jigyosho_130_reordered.csv")
            }
            o => panic!("{o:?}"),
        }
        db
    })
    .await;
}

#[tokio::test]
async fn broken_rows_are_reported_and_the_rest_imported() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let o = import(conn, &[fx::FILES[1], fx::FILES[5]], None).await;
        let clinics = report(&o[0]);
        assert_eq!(clinics.rows_read, fx::CLINIC_NAVII);
        assert_eq!(clinics.created, fx::CLINIC_NAVII - 1, "{}", db.backend);
        assert_eq!(clinics.errors.len(), 1);
        assert_eq!(clinics.errors[0].line, 12);
        assert!(
            clinics.errors[0]
                .reason
                .contains("12 columns where the header (line 1) has 34"),
            "{}",
            clinics.errors[0]
        );
        let local = report(&o[1]);
        assert_eq!(
            local.encoding,
            SourceEncoding::Text(capsurvey_jptext::Encoding::ShiftJis)
        );
        assert_eq!(local.errors.len(), 1);
        assert_eq!(local.errors[0].line, 10);
        assert!(
            local.errors[0].reason.contains("名称"),
            "{}",
            local.errors[0]
        );
        assert_eq!(local.rows_read, 9);
        assert_eq!(local.records, 8);
        // The summary is stored with the file.
        let stored = capsurvey_store::entity::imported_files::Entity::find_by_id(
            local.imported_file_id.unwrap(),
        )
        .one(conn)
        .await
        .unwrap()
        .unwrap();
        let summary: serde_json::Value =
            serde_json::from_str(stored.summary.as_deref().unwrap()).unwrap();
        assert_eq!(summary["errors"][0]["line"], 10);
        assert_eq!(summary["encoding"], "Shift_JIS (CP932)");
        db
    })
    .await;
}

#[tokio::test]
async fn areas_from_the_map_the_local_list_and_by_hand() {
    each_backend(|db| async move {
        let conn = db.store.db();
        // Imported without a map: only the city's own 地区 is known.
        import(conn, &fx::FILES, None).await;
        let s2 = fx::station_code(2);
        assert_eq!(facility(conn, &s2).await.area.as_deref(), Some("北"));
        assert_eq!(facility(conn, &fx::dental_code(0)).await.area, None);

        let map = area_map();
        let changed = assign_areas(conn, &map, ACTOR).await.unwrap();
        let total: usize = fx::EXPECTED.iter().map(|(_, n)| n).sum();
        assert!(changed > total / 2, "{changed}");
        for i in 0..fx::DENTAL_NAVII {
            let code = if fx::dental_on_bureau(i) || i == 2 {
                fx::dental_code(i)
            } else {
                format!("N{}", fx::navii_id(true, i))
            };
            let f = facility(conn, &code).await;
            assert_eq!(
                f.area.as_deref(),
                Some(fx::dental(i).area()),
                "{}: dental {i} {:?}",
                db.backend,
                f.address
            );
        }
        // Dental 5 is in 緑ケ丘3丁目: 西 by the longer prefix, where the rest of 緑ケ丘 is 南.
        assert_eq!(
            (
                fx::dental(5).town,
                fx::dental(5).number.0,
                fx::dental(5).area()
            ),
            (5, 3, "西")
        );
        // The code entry wins over the address; the local 地区 over the address prefix.
        assert_eq!(
            facility(conn, &fx::clinic_code(0)).await.area.as_deref(),
            Some("東")
        );
        assert_eq!(facility(conn, &s2).await.area.as_deref(), Some("北"));

        // By hand: wins, survives re-assignment, and can be cleared.
        let r = set_area_override(conn, &s2, Some("南"), ACTOR)
            .await
            .unwrap();
        assert_eq!((r.before, r.after.as_deref()), (None, Some("南")));
        assert_eq!(assign_areas(conn, &map, ACTOR).await.unwrap(), 0);
        let south = list(
            conn,
            &ListFilter {
                facility_type: Some(FacilityType::VisitingNurse),
                area: Some("南".into()),
            },
        )
        .await
        .unwrap();
        let row = south
            .iter()
            .find(|r| r.code == s2)
            .expect("listed under its override");
        assert!(row.area_is_override);
        assert!(render_table(&south).contains("南*"));
        let audits = capsurvey_store::audit_count(conn).await.unwrap();
        set_area_override(conn, &s2, Some("南"), ACTOR)
            .await
            .unwrap();
        assert_eq!(
            capsurvey_store::audit_count(conn).await.unwrap(),
            audits,
            "no change, no audit row"
        );
        set_area_override(conn, &s2, None, ACTOR).await.unwrap();
        let f = facility(conn, &s2).await;
        assert_eq!((f.area_override, f.area.as_deref()), (None, Some("北")));
        let err = set_area_override(conn, "9999999999", Some("北"), ACTOR)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("roster list"), "{err}");
        db
    })
    .await;
}

#[tokio::test]
async fn an_interrupted_import_leaves_nothing() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let opts = ImportOptions {
            default_type: None,
            area_map: None,
            actor: ACTOR,
        };
        let mut stop = |p: Progress| {
            if p.done == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let err = import_file(conn, &fixture(fx::FILES[0]), &opts, &mut stop)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RosterError::Interrupted { line: 7, .. }),
            "{err}"
        );
        let d = dump(conn).await;
        assert_eq!(
            (
                d.facilities.len(),
                d.sources.len(),
                d.audit_rows,
                d.imported_files
            ),
            (0, 0, 0, 0),
            "{}",
            db.backend
        );
        let o = import(conn, &[fx::FILES[0]], None).await;
        assert_eq!(report(&o[0]).created, fx::DENTAL_NAVII);
        db
    })
    .await;
}

#[tokio::test]
async fn files_that_cannot_be_imported_say_why() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let opts = ImportOptions {
            default_type: None,
            area_map: None,
            actor: ACTOR,
        };
        let err = import_bytes(
            conn,
            "notes.csv",
            "件名,本文\nあ,い\n".as_bytes(),
            &opts,
            &mut go_on,
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().starts_with("notes.csv: no roster header"),
            "{err}"
        );
        let no_type = "コード,名称,住所\nL1,あおば内科,みどり市北野1-1\n";
        let err = import_bytes(conn, "own.csv", no_type.as_bytes(), &opts, &mut go_on)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("pass --type"), "{err}");
        assert_eq!(dump(conn).await.imported_files, 0);
        let opts = ImportOptions {
            default_type: Some(FacilityType::HomecareClinic),
            ..opts
        };
        let o = import_bytes(conn, "own.csv", no_type.as_bytes(), &opts, &mut go_on)
            .await
            .unwrap();
        assert_eq!(report(&o).created, 1);
        assert_eq!(facility(conn, "L1").await.facility_type, "homecare-clinic");
        let err = import_file(conn, &fixture("missing.csv"), &opts, &mut go_on)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("missing.csv"), "{err}");

        // A file of which no row could be read is not recorded: with --type it imports later.
        let blank_types = "コード,種別,名称\nL7,,ひかり歯科\nL8,,ほし歯科\n";
        let opts = ImportOptions {
            default_type: None,
            ..opts
        };
        let o = import_bytes(conn, "blank.csv", blank_types.as_bytes(), &opts, &mut go_on)
            .await
            .unwrap();
        let r = report(&o);
        assert_eq!((r.imported_file_id, r.errors.len()), (None, 2));
        let opts = ImportOptions {
            default_type: Some(FacilityType::Dental),
            ..opts
        };
        let o = import_bytes(conn, "blank.csv", blank_types.as_bytes(), &opts, &mut go_on)
            .await
            .unwrap();
        assert_eq!(report(&o).created, 2);
        db
    })
    .await;
}
