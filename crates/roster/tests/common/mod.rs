//! Shared helpers: fixture paths, importing, and dumping the roster tables for comparison.

#![allow(dead_code)]

use std::ops::ControlFlow;
use std::path::PathBuf;

use capsurvey_roster::{AreaMap, FileOutcome, FileReport, ImportOptions, Progress, import_file};
use capsurvey_store::entity::{facilities, facility_sources};
use capsurvey_store::sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};

pub const ACTOR: &str = "test";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/roster")
        .join(name)
}

pub fn area_map() -> AreaMap {
    AreaMap::load(&fixture("area-map.csv")).expect("fixture area map")
}

pub fn go_on(_: Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Imports the named fixtures in order.
pub async fn import(
    db: &DatabaseConnection,
    files: &[&str],
    map: Option<&AreaMap>,
) -> Vec<FileOutcome> {
    let opts = ImportOptions {
        default_type: None,
        area_map: map,
        actor: ACTOR,
    };
    let mut out = Vec::new();
    for f in files {
        out.push(
            import_file(db, &fixture(f), &opts, &mut go_on)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    out
}

pub fn report(o: &FileOutcome) -> &FileReport {
    match o {
        FileOutcome::Imported(r) => r,
        FileOutcome::AlreadyImported { path, .. } => {
            panic!("{path} was skipped as already imported")
        }
    }
}

/// Everything an import writes, for comparing two states.
#[derive(Debug, PartialEq)]
pub struct Dump {
    pub facilities: Vec<facilities::Model>,
    pub sources: Vec<facility_sources::Model>,
    pub audit_rows: u64,
    pub imported_files: u64,
}

pub async fn dump(db: &DatabaseConnection) -> Dump {
    Dump {
        facilities: facilities::Entity::find()
            .order_by_asc(facilities::Column::Id)
            .all(db)
            .await
            .unwrap(),
        sources: facility_sources::Entity::find()
            .order_by_asc(facility_sources::Column::Id)
            .all(db)
            .await
            .unwrap(),
        audit_rows: capsurvey_store::audit_count(db).await.unwrap(),
        imported_files: capsurvey_store::entity::imported_files::Entity::find()
            .count(db)
            .await
            .unwrap(),
    }
}

pub async fn facility(db: &DatabaseConnection, code: &str) -> facilities::Model {
    use capsurvey_store::sea_orm::{ColumnTrait, QueryFilter};
    facilities::Entity::find()
        .filter(facilities::Column::Code.eq(code))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no facility {code}"))
}

pub async fn sources_of(db: &DatabaseConnection, id: i64) -> Vec<facility_sources::Model> {
    use capsurvey_store::sea_orm::{ColumnTrait, QueryFilter};
    facility_sources::Entity::find()
        .filter(facility_sources::Column::FacilityId.eq(id))
        .order_by_asc(facility_sources::Column::SourceKind)
        .all(db)
        .await
        .unwrap()
}
