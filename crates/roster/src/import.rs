//! Merging parsed records into the store, one file per transaction.
//!
//! For each record the facility is found by, in order:
//! 1. the same source record (`source_kind`, `source_key`) seen before;
//! 2. a facility with the same code;
//! 3. a facility of the same type with the same normalised name and address ([`crate::keys`]);
//!    for visiting-nurse stations, failing that, the one station of the same phone number
//!    (the bureau's station list and the care-service list share no key);
//!
//! and created otherwise. Step 3 never joins a record and a facility whose official codes
//! differ, nor a record onto a facility that already has a record from the same list (a list
//! describes each facility once).
//!
//! Every source record is kept in `facility_sources`; the facility's columns are then recomputed
//! from all its records by [`SourceKind::precedence`] (local > kouseikyoku > kaigo > navii; the
//! newest file first within a list), so the result does not depend on the order files come in.
//! A provisional code (`N…`, `L…`) gives way to an official one when a record brings it.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::path::Path;

use capsurvey_store::entity::{facilities, facility_sources};
use capsurvey_store::{
    StoreError, audit, content_hash, imported_file, now, record_imported_file, set_import_summary,
};
use capsurvey_survey::FacilityType;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::area::AreaMap;
use crate::error::RosterError;
use crate::keys::{address_key, is_official_code, name_key};
use crate::parse::{ParseOptions, parse};
use crate::record::{Layout, RosterRecord, RowError, SourceEncoding, SourceFields, SourceKind};

/// The `imported_files.kind` of roster files.
pub const IMPORT_KIND: &str = "roster";

/// What an import needs to know besides the file.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Facility type for rows whose file does not say (`--type`).
    pub default_type: Option<FacilityType>,
    /// Assigns areas to the facilities the file touches.
    pub area_map: Option<&'a AreaMap>,
    /// Who imports, for the audit log.
    pub actor: &'a str,
}

/// How far an import has got: records (facilities) done out of the file's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Records merged so far.
    pub done: usize,
    /// Records in the file.
    pub total: usize,
}

/// What became of one file.
#[derive(Debug, Clone)]
pub enum FileOutcome {
    /// The file was read and merged.
    Imported(FileReport),
    /// These exact bytes were imported before; nothing was done.
    AlreadyImported {
        /// The path given this time.
        path: String,
        /// The path it was imported from then.
        first_path: String,
        /// When.
        imported_at: chrono::DateTime<chrono::Utc>,
    },
}

/// The summary of one imported file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as given.
    pub path: String,
    /// The layout recognised.
    #[serde(serialize_with = "display")]
    pub layout: Layout,
    /// The encoding recognised.
    #[serde(serialize_with = "display")]
    pub encoding: SourceEncoding,
    /// Data rows read below the header.
    pub rows_read: usize,
    /// Facility records in the file (the bureau list has several rows per facility).
    pub records: usize,
    /// Facilities created.
    pub created: usize,
    /// Facilities whose data or source record changed.
    pub updated: usize,
    /// Records that changed nothing.
    pub unchanged: usize,
    /// Rows not imported, by line.
    pub errors: Vec<RowError>,
    /// The `imported_files` row; `None` when every row was rejected, so that the file can be
    /// imported again once fixed (or with `--type`) instead of being skipped as already imported.
    pub imported_file_id: Option<i64>,
}

fn display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads and imports one file.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    opts: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<FileOutcome, RosterError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| RosterError::Read {
        file: file.clone(),
        error,
    })?;
    import_bytes(db, &file, &bytes, opts, progress).await
}

/// Imports a file's bytes; `path` is what reports and `imported_files` call it.
///
/// All writes, including the `imported_files` row, happen in one transaction: if anything fails,
/// or `progress` returns [`ControlFlow::Break`], nothing from the file is left behind.
pub async fn import_bytes(
    db: &DatabaseConnection,
    path: &str,
    bytes: &[u8],
    opts: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<FileOutcome, RosterError> {
    let store_err = |error: StoreError| RosterError::Store {
        file: path.to_owned(),
        error,
    };
    let hash = content_hash(bytes);
    if let Some(done) = imported_file(db, IMPORT_KIND, &hash)
        .await
        .map_err(store_err)?
    {
        return Ok(FileOutcome::AlreadyImported {
            path: path.to_owned(),
            first_path: done.path,
            imported_at: done.imported_at,
        });
    }
    let parsed = parse(
        bytes,
        &ParseOptions {
            default_type: opts.default_type,
        },
    )
    .map_err(|error| RosterError::Parse {
        file: path.to_owned(),
        error,
    })?;

    let mut report = FileReport {
        path: path.to_owned(),
        layout: parsed.layout,
        encoding: parsed.encoding,
        rows_read: parsed.rows_read,
        records: parsed.records.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        errors: parsed.errors,
        imported_file_id: None,
    };
    if parsed.records.is_empty() && !report.errors.is_empty() {
        return Ok(FileOutcome::Imported(report));
    }

    let txn = db.begin().await.map_err(|e| store_err(e.into()))?;
    let file = record_imported_file(&txn, IMPORT_KIND, path, &hash, bytes.len() as u64)
        .await
        .map_err(store_err)?;
    let mut ix = Index::load(&txn).await.map_err(store_err)?;
    let ctx = Ctx {
        file_id: file.id,
        path,
        map: opts.area_map,
        actor: opts.actor,
    };
    report.imported_file_id = Some(file.id);
    let total = parsed.records.len();
    for (done, rec) in parsed.records.iter().enumerate() {
        if progress(Progress { done, total }).is_break() {
            // Dropping `txn` rolls everything back, the imported_files row included.
            return Err(RosterError::Interrupted {
                file: path.to_owned(),
                line: rec.line,
            });
        }
        match merge_record(&txn, &mut ix, rec, &ctx)
            .await
            .map_err(store_err)?
        {
            Outcome::Created => report.created += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Rejected(reason) => report.errors.push(RowError {
                line: rec.line,
                reason,
            }),
        }
    }
    let _ = progress(Progress { done: total, total });
    report.errors.sort_by_key(|e| e.line);
    let summary = serde_json::to_value(&report).unwrap_or(Value::Null);
    set_import_summary(&txn, file, summary)
        .await
        .map_err(store_err)?;
    txn.commit().await.map_err(|e| store_err(e.into()))?;
    Ok(FileOutcome::Imported(report))
}

/// Re-assigns every facility's area from a map (and the local lists' 地区), in one
/// transaction, auditing each change. Returns how many facilities changed.
///
/// Run after imports with a map: a file imported before is skipped by its hash, but the
/// map may be new.
pub async fn assign_areas(
    db: &DatabaseConnection,
    map: &AreaMap,
    actor: &str,
) -> Result<usize, RosterError> {
    let txn = db.begin().await?;
    let ix = Index::load(&txn).await?;
    let mut ids: Vec<i64> = ix.facilities.keys().copied().collect();
    ids.sort_unstable();
    let mut changed = 0;
    for id in ids {
        let fac = &ix.facilities[&id];
        let local_area = ix.merged(id).and_then(|m| m.local_area);
        let area = derive_area(
            &fac.code,
            local_area.as_deref(),
            fac.address.as_deref(),
            Some(map),
            fac.area.as_deref(),
        );
        if area == fac.area {
            continue;
        }
        let before = fac.area.clone();
        let mut am: facilities::ActiveModel = fac.clone().into();
        am.area = Set(area.clone());
        am.updated_at = Set(now());
        am.update(&txn).await?;
        audit(
            &txn,
            actor,
            "facility.area",
            "facilities",
            Some(id),
            json!({"code": fac.code, "changes": {"area": {"before": before, "after": area}}}),
        )
        .await?;
        changed += 1;
    }
    txn.commit().await?;
    Ok(changed)
}

/// The area a facility gets: the map's entry for its code, else the area the municipality's own
/// list states, else the map's address prefix. Without a map the current area stays (a file
/// imported without `--area-map` must not wipe areas assigned before).
fn derive_area(
    code: &str,
    local_area: Option<&str>,
    address: Option<&str>,
    map: Option<&AreaMap>,
    current: Option<&str>,
) -> Option<String> {
    if let Some(a) = map.and_then(|m| m.by_code(code)) {
        return Some(a.to_owned());
    }
    if let Some(a) = local_area {
        return Some(a.to_owned());
    }
    match map {
        Some(m) => address.and_then(|a| m.by_address(a)).map(str::to_owned),
        None => current.map(str::to_owned),
    }
}

struct Ctx<'a> {
    file_id: i64,
    path: &'a str,
    map: Option<&'a AreaMap>,
    actor: &'a str,
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
    Rejected(String),
}

/// A stored source record and the fields parsed back from it.
struct Source {
    model: facility_sources::Model,
    fields: Option<SourceFields>,
}

/// The roster in memory for one import: a few thousand facilities at most per municipality,
/// so matching needs no query per row.
#[derive(Default)]
struct Index {
    facilities: HashMap<i64, facilities::Model>,
    by_code: HashMap<String, i64>,
    by_name_addr: HashMap<(FacilityType, String, String), BTreeSet<i64>>,
    by_phone: HashMap<(FacilityType, String), BTreeSet<i64>>,
    sources: HashMap<(SourceKind, String), Source>,
    by_facility: HashMap<i64, Vec<(SourceKind, String)>>,
}

enum Found {
    Facility(i64),
    New,
    Conflict(String),
}

impl Index {
    async fn load<C: ConnectionTrait>(conn: &C) -> Result<Index, StoreError> {
        let mut ix = Index::default();
        for f in facilities::Entity::find()
            .order_by_asc(facilities::Column::Id)
            .all(conn)
            .await?
        {
            ix.put_facility(f);
        }
        for s in facility_sources::Entity::find()
            .order_by_asc(facility_sources::Column::Id)
            .all(conn)
            .await?
        {
            let Some(kind) = SourceKind::parse(&s.source_kind) else {
                continue;
            };
            let fields = serde_json::from_str::<Value>(&s.record).ok().and_then(|v| {
                serde_json::from_value::<SourceFields>(v.get("fields")?.clone()).ok()
            });
            ix.put_source(kind, Source { model: s, fields });
        }
        Ok(ix)
    }

    fn add_keys(
        &mut self,
        id: i64,
        t: FacilityType,
        name: &str,
        address: Option<&str>,
        phone: Option<&str>,
    ) {
        let nk = name_key(name);
        if let Some(ak) = address.map(address_key)
            && !nk.is_empty()
            && !ak.is_empty()
        {
            self.by_name_addr.entry((t, nk, ak)).or_default().insert(id);
        }
        let digits = phone.map(capsurvey_jptext::digits_only).unwrap_or_default();
        if !digits.is_empty() {
            self.by_phone.entry((t, digits)).or_default().insert(id);
        }
    }

    fn put_facility(&mut self, f: facilities::Model) {
        self.by_code.insert(f.code.clone(), f.id);
        if let Ok(t) = f.facility_type.parse::<FacilityType>() {
            self.add_keys(f.id, t, &f.name, f.address.as_deref(), f.phone.as_deref());
        }
        self.facilities.insert(f.id, f);
    }

    fn put_source(&mut self, kind: SourceKind, s: Source) {
        let key = (kind, s.model.source_key.clone());
        let id = s.model.facility_id;
        if let Some(f) = &s.fields {
            self.add_keys(
                id,
                f.facility_type,
                &f.name,
                f.address.as_deref(),
                f.phone.as_deref(),
            );
        }
        let keys = self.by_facility.entry(id).or_default();
        if !keys.contains(&key) {
            keys.push(key.clone());
        }
        self.sources.insert(key, s);
    }

    /// Whether a record may be merged onto a facility found by name, address or phone.
    fn compatible(&self, id: i64, rec: &RosterRecord) -> bool {
        let Some(fac) = self.facilities.get(&id) else {
            return false;
        };
        fac.facility_type == rec.fields.facility_type.as_str()
            && !self
                .by_facility
                .get(&id)
                .is_some_and(|keys| keys.iter().any(|(k, _)| *k == rec.source))
            && !(rec.fields.official && is_official_code(&fac.code) && fac.code != rec.fields.code)
    }

    fn find(&self, rec: &RosterRecord) -> Found {
        let f = &rec.fields;
        if let Some(s) = self.sources.get(&(rec.source, rec.source_key.clone())) {
            return Found::Facility(s.model.facility_id);
        }
        if let Some(&id) = self.by_code.get(&f.code) {
            let fac = &self.facilities[&id];
            if fac.facility_type != f.facility_type.as_str() {
                return Found::Conflict(format!(
                    "code {} already belongs to 「{}」 ({}), but this row is {}: check the code, or the --type given",
                    f.code, fac.name, fac.facility_type, f.facility_type
                ));
            }
            return Found::Facility(id);
        }
        let nk = name_key(&f.name);
        let ak = f.address.as_deref().map(address_key).unwrap_or_default();
        if !nk.is_empty()
            && !ak.is_empty()
            && let Some(id) = self
                .by_name_addr
                .get(&(f.facility_type, nk, ak))
                .and_then(|ids| ids.iter().copied().find(|&id| self.compatible(id, rec)))
        {
            return Found::Facility(id);
        }
        if f.facility_type == FacilityType::VisitingNurse {
            let digits = f
                .phone
                .as_deref()
                .map(capsurvey_jptext::digits_only)
                .unwrap_or_default();
            if let Some(ids) = self.by_phone.get(&(f.facility_type, digits)) {
                let fits: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|&id| self.compatible(id, rec))
                    .collect();
                // Only an unambiguous number: stations of one company may share a switchboard.
                if let [id] = fits[..] {
                    return Found::Facility(id);
                }
            }
        }
        Found::New
    }

    /// A facility's columns as its source records make them.
    fn merged(&self, id: i64) -> Option<Merged> {
        let sources = self
            .by_facility
            .get(&id)?
            .iter()
            .filter_map(|k| {
                let s = self.sources.get(k)?;
                Some((
                    k.0,
                    s.model.imported_file_id,
                    s.model.line,
                    s.fields.as_ref()?,
                ))
            })
            .collect();
        merge(sources)
    }
}

/// Facility columns recomputed from source records.
struct Merged {
    facility_type: FacilityType,
    name: String,
    name_kana: Option<String>,
    postal_code: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    fax: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    filings: Option<String>,
    local_area: Option<String>,
}

/// Each column from the highest-precedence source that has it (for equal lists, the newer
/// file, then the earlier line); filings are the union of all sources'.
fn merge(mut sources: Vec<(SourceKind, i64, i64, &SourceFields)>) -> Option<Merged> {
    sources.sort_by(|a, b| {
        b.0.precedence()
            .cmp(&a.0.precedence())
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    let first = sources.first()?.3;
    let pick =
        |get: fn(&SourceFields) -> Option<&String>| sources.iter().find_map(|s| get(s.3).cloned());
    let (latitude, longitude) = sources
        .iter()
        .find_map(|s| Some((s.3.latitude?, s.3.longitude?)))
        .map_or((None, None), |(a, b)| (Some(a), Some(b)));
    let filings: BTreeSet<&String> = sources.iter().flat_map(|s| &s.3.filings).collect();
    Some(Merged {
        facility_type: first.facility_type,
        name: first.name.clone(),
        name_kana: pick(|f| f.name_kana.as_ref()),
        postal_code: pick(|f| f.postal_code.as_ref()),
        address: pick(|f| f.address.as_ref()),
        phone: pick(|f| f.phone.as_ref()),
        fax: pick(|f| f.fax.as_ref()),
        latitude,
        longitude,
        filings: (!filings.is_empty())
            .then(|| filings.into_iter().cloned().collect::<Vec<_>>().join(";")),
        local_area: sources
            .iter()
            .filter(|s| s.0 == SourceKind::Local)
            .find_map(|s| s.3.area.clone()),
    })
}

/// The facility columns imports write, for comparing and auditing.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Columns {
    code: String,
    facility_type: String,
    name: String,
    name_kana: Option<String>,
    postal_code: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    fax: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    area: Option<String>,
    filings: Option<String>,
}

impl Columns {
    fn of(f: &facilities::Model) -> Columns {
        Columns {
            code: f.code.clone(),
            facility_type: f.facility_type.clone(),
            name: f.name.clone(),
            name_kana: f.name_kana.clone(),
            postal_code: f.postal_code.clone(),
            address: f.address.clone(),
            phone: f.phone.clone(),
            fax: f.fax.clone(),
            latitude: f.latitude,
            longitude: f.longitude,
            area: f.area.clone(),
            filings: f.filings.clone(),
        }
    }

    fn from_merged(code: String, m: Merged, area: Option<String>) -> Columns {
        Columns {
            code,
            facility_type: m.facility_type.as_str().to_owned(),
            name: m.name,
            name_kana: m.name_kana,
            postal_code: m.postal_code,
            address: m.address,
            phone: m.phone,
            fax: m.fax,
            latitude: m.latitude,
            longitude: m.longitude,
            area,
            filings: m.filings,
        }
    }

    fn write(&self, am: &mut facilities::ActiveModel) {
        am.code = Set(self.code.clone());
        am.facility_type = Set(self.facility_type.clone());
        am.name = Set(self.name.clone());
        am.name_kana = Set(self.name_kana.clone());
        am.postal_code = Set(self.postal_code.clone());
        am.address = Set(self.address.clone());
        am.phone = Set(self.phone.clone());
        am.fax = Set(self.fax.clone());
        am.latitude = Set(self.latitude);
        am.longitude = Set(self.longitude);
        am.area = Set(self.area.clone());
        am.filings = Set(self.filings.clone());
    }

    fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// `{field: {before, after}}` for the fields of two JSON objects that differ.
fn diff(before: &Value, after: &Value) -> serde_json::Map<String, Value> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| {
            let get = |m: &serde_json::Map<String, Value>| m.get(k).cloned().unwrap_or(Value::Null);
            (k.clone(), json!({"before": get(b), "after": get(a)}))
        })
        .collect()
}

/// What `facility_sources.record` holds: the normalised fields merging uses and the raw columns.
fn stored_record(rec: &RosterRecord) -> String {
    json!({"fields": rec.fields, "raw": rec.raw}).to_string()
}

async fn merge_record<C: ConnectionTrait>(
    conn: &C,
    ix: &mut Index,
    rec: &RosterRecord,
    ctx: &Ctx<'_>,
) -> Result<Outcome, StoreError> {
    let id = match ix.find(rec) {
        Found::Conflict(reason) => return Ok(Outcome::Rejected(reason)),
        Found::New => None,
        Found::Facility(id) => Some(id),
    };
    let stored = stored_record(rec);
    let at = now();
    let source_info = json!({
        "kind": rec.source.as_str(), "key": rec.source_key, "file": ctx.path, "line": rec.line,
    });
    let Some(id) = id else {
        let merged = merge(vec![(
            rec.source,
            ctx.file_id,
            rec.line as i64,
            &rec.fields,
        )])
        .expect("one source merges");
        let area = derive_area(
            &rec.fields.code,
            merged.local_area.as_deref(),
            merged.address.as_deref(),
            ctx.map,
            None,
        );
        let cols = Columns::from_merged(rec.fields.code.clone(), merged, area);
        let mut am = facilities::ActiveModel {
            area_override: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
        cols.write(&mut am);
        let fac = am.insert(conn).await?;
        let src = insert_source(conn, fac.id, rec, ctx, stored, at).await?;
        audit(
            conn,
            ctx.actor,
            "facility.create",
            "facilities",
            Some(fac.id),
            json!({"code": fac.code, "source": source_info, "after": cols.json()}),
        )
        .await?;
        ix.put_facility(fac);
        ix.put_source(
            rec.source,
            Source {
                model: src,
                fields: Some(rec.fields.clone()),
            },
        );
        return Ok(Outcome::Created);
    };

    let key = (rec.source, rec.source_key.clone());
    let source_change = match ix.sources.get(&key) {
        Some(s) if s.model.record == stored => None,
        Some(s) => {
            let old_raw = serde_json::from_str::<Value>(&s.model.record)
                .ok()
                .and_then(|v| v.get("raw").cloned())
                .unwrap_or(Value::Null);
            let mut am: facility_sources::ActiveModel = s.model.clone().into();
            am.record = Set(stored);
            am.imported_file_id = Set(ctx.file_id);
            am.line = Set(rec.line as i64);
            am.updated_at = Set(at);
            let model = am.update(conn).await?;
            ix.put_source(
                rec.source,
                Source {
                    model,
                    fields: Some(rec.fields.clone()),
                },
            );
            Some(json!({"status": "changed", "raw": diff(&old_raw, &rec.raw)}))
        }
        None => {
            let model = insert_source(conn, id, rec, ctx, stored, at).await?;
            ix.put_source(
                rec.source,
                Source {
                    model,
                    fields: Some(rec.fields.clone()),
                },
            );
            Some(json!({"status": "added"}))
        }
    };

    let before = ix.facilities[&id].clone();
    let mut code = before.code.clone();
    if rec.fields.official && !is_official_code(&code) && !ix.by_code.contains_key(&rec.fields.code)
    {
        code = rec.fields.code.clone();
    }
    let merged = ix
        .merged(id)
        .expect("the facility has the source just written");
    let area = derive_area(
        &code,
        merged.local_area.as_deref(),
        merged.address.as_deref(),
        ctx.map,
        before.area.as_deref(),
    );
    let after = Columns::from_merged(code, merged, area);
    let changes = diff(&Columns::of(&before).json(), &after.json());
    if changes.is_empty() && source_change.is_none() {
        return Ok(Outcome::Unchanged);
    }
    if !changes.is_empty() {
        let mut am: facilities::ActiveModel = before.clone().into();
        after.write(&mut am);
        am.updated_at = Set(at);
        let updated = am.update(conn).await?;
        ix.put_facility(updated);
    }
    audit(
        conn,
        ctx.actor,
        "facility.update",
        "facilities",
        Some(id),
        json!({"code": after.code, "source": source_info, "source_record": source_change, "changes": changes}),
    )
    .await?;
    Ok(Outcome::Updated)
}

async fn insert_source<C: ConnectionTrait>(
    conn: &C,
    facility_id: i64,
    rec: &RosterRecord,
    ctx: &Ctx<'_>,
    stored: String,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<facility_sources::Model, StoreError> {
    Ok(facility_sources::ActiveModel {
        facility_id: Set(facility_id),
        source_kind: Set(rec.source.as_str().to_owned()),
        source_key: Set(rec.source_key.clone()),
        imported_file_id: Set(ctx.file_id),
        line: Set(rec.line as i64),
        record: Set(stored),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(kind_name: &str, phone: Option<&str>, filings: &[&str]) -> SourceFields {
        SourceFields {
            code: "N1".into(),
            official: false,
            facility_type: FacilityType::Dental,
            name: kind_name.into(),
            name_kana: None,
            postal_code: None,
            address: Some("みどり市本町1-1".into()),
            phone: phone.map(Into::into),
            fax: None,
            latitude: None,
            longitude: None,
            filings: filings.iter().map(|s| s.to_string()).collect(),
            area: None,
        }
    }

    #[test]
    fn precedence_and_union() {
        let navii = SourceFields {
            latitude: Some(35.0),
            longitude: Some(139.0),
            ..fields("ナビイ名", None, &[])
        };
        let bureau = fields("厚生局名", Some("042-911-0001"), &["支援診3"]);
        let local = fields("市の名", None, &["在医総管"]);
        let m = merge(vec![
            (SourceKind::Navii, 1, 2, &navii),
            (SourceKind::Local, 3, 2, &local),
            (SourceKind::Kouseikyoku, 2, 9, &bureau),
        ])
        .unwrap();
        assert_eq!(m.name, "市の名");
        assert_eq!(
            m.phone.as_deref(),
            Some("042-911-0001"),
            "local has none, the bureau's is next"
        );
        assert_eq!((m.latitude, m.longitude), (Some(35.0), Some(139.0)));
        assert_eq!(m.filings.as_deref(), Some("在医総管;支援診3"));
        // Within one list the newer file wins.
        let newer = fields("新しい名", None, &[]);
        let m = merge(vec![
            (SourceKind::Navii, 1, 2, &navii),
            (SourceKind::Navii, 5, 7, &newer),
        ])
        .unwrap();
        assert_eq!(m.name, "新しい名");
    }

    #[test]
    fn area_order() {
        let map = AreaMap::parse(
            "種類,キー,地区\n住所,みどり市本町,中央\nコード,L9,東\n".as_bytes(),
            "m",
        )
        .unwrap();
        let addr = Some("みどり市本町1-1");
        assert_eq!(
            derive_area("L1", None, addr, Some(&map), Some("北")).as_deref(),
            Some("中央")
        );
        assert_eq!(
            derive_area("L1", Some("西"), addr, Some(&map), None).as_deref(),
            Some("西")
        );
        assert_eq!(
            derive_area("L9", Some("西"), addr, Some(&map), None).as_deref(),
            Some("東")
        );
        assert_eq!(
            derive_area("L1", None, addr, None, Some("北")).as_deref(),
            Some("北")
        );
        assert_eq!(
            derive_area("L1", None, Some("ひかり市1"), Some(&map), Some("北")),
            None
        );
    }
}
