//! Responses, answers and review tasks: the one place that decides what a new reading does to
//! what is stored.
//!
//! Rules (shared by scan, CSV and review):
//! - the first value for a field is accepted;
//! - the same value again changes nothing;
//! - a different value from the same channel (a newer reply) supersedes the old one, which stays
//!   as history with `superseded_by`;
//! - a different value from another channel (FAX versus CSV), or from another copy of the same
//!   faxed page, is kept under review beside the accepted one, with a conflict task: nothing is
//!   silently overwritten;
//! - a person's decision supersedes whatever was there;
//! - what the machine is unsure of is stored with status `review` and a task, never accepted.
//!
//! [`put_answer`] and [`put_for_review`] apply them to one value. Importers that write many
//! values at once use the same rules in bulk: [`accepted_answers_of`] loads what is accepted,
//! [`decide`] (the rule [`put_answer`] follows) says what each value does, first values go in
//! with [`insert_first_answers`] and changes through [`put_answer`]; [`put_for_review_many`]
//! is [`put_for_review`] for a list.

use std::borrow::Cow;
use std::collections::HashMap;

use capsurvey_survey::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, sea_query::Expr,
};

use crate::entity::{answers, facilities, mailings, responses, review_tasks};
use crate::ops::{audit, now};
use crate::{Result, StoreError};

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A faxed or scanned page read by the machine.
    Scan,
    /// A CSV or xlsx reply file.
    Csv,
    /// A person, in the review page.
    Person,
}

impl SourceKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Scan => "scan",
            SourceKind::Csv => "csv",
            SourceKind::Person => "person",
        }
    }
}

/// The origin of one value, precise enough for a person to find it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Channel.
    pub kind: SourceKind,
    /// Human-readable: `reply.tif p3 box q08.3`, `replies.csv row 12 col q08`, `user tanaka`.
    pub source_ref: String,
    /// The page it was read from.
    pub scanned_page_id: Option<i64>,
    /// The file it was imported from.
    pub imported_file_id: Option<i64>,
    /// 1-based row in that file.
    pub row_number: Option<i64>,
    /// The person who decided it.
    pub person: Option<String>,
}

/// What [`put_answer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// First value for the field.
    Inserted(i64),
    /// The same value was already accepted.
    Unchanged(i64),
    /// A newer value from the same channel (a newer CSV) replaced the old one.
    Superseded {
        /// The replaced answer.
        old: i64,
        /// The new answer.
        new: i64,
    },
    /// A different value from another channel: kept for review beside the accepted one.
    Conflict {
        /// The new (pending) answer.
        answer: i64,
        /// The conflict task.
        task: i64,
    },
}

fn encode(value: &Option<Value>) -> Option<String> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v).expect("values serialise"))
}

/// A value as it is stored (and compared: equal values have equal encodings).
pub fn encode_value(value: &Option<Value>) -> Option<String> {
    encode(value)
}

/// Decodes a stored value.
pub fn decode_value(stored: &Option<String>) -> Result<Option<Value>> {
    stored
        .as_deref()
        .map(|s| {
            serde_json::from_str(s)
                .map_err(|e| StoreError::Corrupt(format!("answer value {s}: {e}")))
        })
        .transpose()
}

/// The facility with this code.
pub async fn facility_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<facilities::Model>> {
    Ok(facilities::Entity::find()
        .filter(facilities::Column::Code.eq(code))
        .one(conn)
        .await?)
}

/// The facility with this id.
pub async fn facility_by_id<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<facilities::Model>> {
    Ok(facilities::Entity::find_by_id(id).one(conn).await?)
}

/// The mailing with this form code.
pub async fn mailing_by_code<C: ConnectionTrait>(
    conn: &C,
    form_code: &str,
) -> Result<Option<mailings::Model>> {
    Ok(mailings::Entity::find()
        .filter(mailings::Column::FormCode.eq(form_code))
        .one(conn)
        .await?)
}

/// The response of a facility to a survey version, created on first use.
pub async fn response_for<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
    facility_id: i64,
    mailing_id: Option<i64>,
) -> Result<responses::Model> {
    if let Some(r) = responses::Entity::find()
        .filter(responses::Column::SurveyVersionId.eq(survey_version_id))
        .filter(responses::Column::FacilityId.eq(facility_id))
        .one(conn)
        .await?
    {
        return Ok(r);
    }
    let t = now();
    Ok(responses::ActiveModel {
        survey_version_id: Set(survey_version_id),
        facility_id: Set(facility_id),
        mailing_id: Set(mailing_id),
        status: Set("partial".into()),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// The accepted answer of a field, if any.
pub async fn accepted_answer<C: ConnectionTrait>(
    conn: &C,
    response_id: i64,
    field_key: &str,
) -> Result<Option<answers::Model>> {
    Ok(answers::Entity::find()
        .filter(answers::Column::ResponseId.eq(response_id))
        .filter(answers::Column::FieldKey.eq(field_key))
        .filter(answers::Column::Status.eq("accepted"))
        .order_by_desc(answers::Column::Id)
        .one(conn)
        .await?)
}

/// Every accepted answer of a response.
pub async fn accepted_answers<C: ConnectionTrait>(
    conn: &C,
    response_id: i64,
) -> Result<Vec<answers::Model>> {
    Ok(answers::Entity::find()
        .filter(answers::Column::ResponseId.eq(response_id))
        .filter(answers::Column::Status.eq("accepted"))
        .order_by_asc(answers::Column::Id)
        .all(conn)
        .await?)
}

/// The whole history of one field, oldest first.
pub async fn answer_history<C: ConnectionTrait>(
    conn: &C,
    response_id: i64,
    field_key: &str,
) -> Result<Vec<answers::Model>> {
    Ok(answers::Entity::find()
        .filter(answers::Column::ResponseId.eq(response_id))
        .filter(answers::Column::FieldKey.eq(field_key))
        .order_by_asc(answers::Column::Id)
        .all(conn)
        .await?)
}

/// The row of an answer, as every insert writes it (the source is copied only if borrowed).
fn answer_row(
    response_id: i64,
    field_key: &str,
    value: Option<String>,
    confidence: Option<f64>,
    src: Cow<'_, Source>,
    status: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> answers::ActiveModel {
    let src = src.into_owned();
    answers::ActiveModel {
        response_id: Set(response_id),
        field_key: Set(field_key.to_owned()),
        value: Set(value),
        source_kind: Set(src.kind.as_str().to_owned()),
        source_ref: Set(src.source_ref),
        scanned_page_id: Set(src.scanned_page_id),
        imported_file_id: Set(src.imported_file_id),
        row_number: Set(src.row_number),
        person: Set(src.person),
        confidence: Set(confidence),
        status: Set(status.to_owned()),
        superseded_by: Set(None),
        created_at: Set(at),
        ..Default::default()
    }
}

async fn insert_answer<C: ConnectionTrait>(
    conn: &C,
    response_id: i64,
    field_key: &str,
    value: &Option<Value>,
    confidence: Option<f64>,
    src: &Source,
    status: &str,
) -> Result<answers::Model> {
    Ok(answer_row(
        response_id,
        field_key,
        encode(value),
        confidence,
        Cow::Borrowed(src),
        status,
        now(),
    )
    .insert(conn)
    .await?)
}

/// Rows per multi-row INSERT of answers or tasks (13 columns each): as many as the database
/// takes parameters in one statement (PostgreSQL 65,535; SQLite 32,766, but its statements
/// get slower to prepare past a thousand rows), so that a large import makes few round trips.
fn insert_rows<C: ConnectionTrait>(conn: &C) -> usize {
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => 5000,
        _ => 1000,
    }
}

/// An answer row to insert with others.
struct AnswerRow<'a> {
    response_id: i64,
    field_key: &'a str,
    value: Option<String>,
    confidence: Option<f64>,
    src: Cow<'a, Source>,
    status: &'static str,
}

/// Inserts answers with one multi-row INSERT per [`insert_rows`]; their ids, in order, if
/// asked for.
async fn insert_answer_rows<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<AnswerRow<'_>>,
    ids_wanted: bool,
) -> Result<Vec<i64>> {
    let at = now();
    let mut ids = Vec::with_capacity(if ids_wanted { rows.len() } else { 0 });
    let per = insert_rows(conn);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<AnswerRow<'_>> = rows.by_ref().take(per).collect();
        let keys: Vec<(i64, &str)> = if ids_wanted {
            part.iter().map(|r| (r.response_id, r.field_key)).collect()
        } else {
            Vec::new()
        };
        let models = part.into_iter().map(|r| {
            answer_row(
                r.response_id,
                r.field_key,
                r.value,
                r.confidence,
                r.src,
                r.status,
                at,
            )
        });
        if !ids_wanted {
            answers::Entity::insert_many(models)
                .exec_without_returning(conn)
                .await?;
            continue;
        }
        let mut insert = answers::Entity::insert_many(models).into_query();
        insert.returning(sea_orm::sea_query::Query::returning().columns([
            answers::Column::Id,
            answers::Column::ResponseId,
            answers::Column::FieldKey,
        ]));
        let mut got = Vec::with_capacity(keys.len());
        for r in conn.query_all(&insert).await? {
            got.push((
                r.try_get::<i64>("", "id")?,
                r.try_get::<i64>("", "response_id")?,
                r.try_get::<String>("", "field_key")?,
            ));
        }
        // Ids are given in the order of the VALUES (both databases number the rows as they
        // insert them), though RETURNING need not list them in that order.
        got.sort_unstable_by_key(|g| g.0);
        if got.len() != keys.len() || got.iter().zip(&keys).any(|(g, k)| g.1 != k.0 || g.2 != k.1) {
            return Err(StoreError::Corrupt(
                "inserted answers came back in another order than they were written".into(),
            ));
        }
        ids.extend(got.into_iter().map(|g| g.0));
    }
    Ok(ids)
}

async fn supersede<C: ConnectionTrait>(conn: &C, old: answers::Model, new_id: i64) -> Result<()> {
    let mut a: answers::ActiveModel = old.into();
    a.status = Set("superseded".into());
    a.superseded_by = Set(Some(new_id));
    a.update(conn).await?;
    Ok(())
}

/// The accepted answer of a field, as the rules in the module docs look at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The answer.
    pub id: i64,
    /// Its value, encoded as stored ([`encode_value`]).
    pub value: Option<String>,
    /// Its channel (`None` for a name this version does not know).
    pub source_kind: Option<SourceKind>,
    /// The page it was read from.
    pub scanned_page_id: Option<i64>,
}

impl From<&answers::Model> for Accepted {
    fn from(a: &answers::Model) -> Accepted {
        Accepted {
            id: a.id,
            value: a.value.clone(),
            source_kind: source_kind_named(&a.source_kind),
            scanned_page_id: a.scanned_page_id,
        }
    }
}

fn source_kind_named(name: &str) -> Option<SourceKind> {
    [SourceKind::Scan, SourceKind::Csv, SourceKind::Person]
        .into_iter()
        .find(|k| k.as_str() == name)
}

/// What a new value does to the accepted one of its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing is accepted yet: the value is accepted.
    Insert,
    /// The same value is accepted already (this answer): nothing changes.
    Unchanged(i64),
    /// A newer value from the same channel, or a person's: it replaces this answer.
    Supersede(i64),
    /// A different value from another channel or another copy of a page: kept for review
    /// beside this answer.
    Conflict(i64),
}

/// The rules of [`put_answer`] (module docs), without the database: what a value (encoded with
/// [`encode_value`]) from `src` does to the accepted answer of its field.
///
/// [`put_answer`] decides with this; importers that write many values at once decide with it
/// too, on accepted answers loaded together ([`accepted_answers_of`]), and store first values
/// with [`insert_first_answers`].
pub fn decide(current: Option<&Accepted>, value: Option<&str>, src: &Source) -> Decision {
    let Some(current) = current else {
        return Decision::Insert;
    };
    if current.value.as_deref() == value {
        return Decision::Unchanged(current.id);
    }
    // A newer CSV replaces an older one; but two different faxes of the same page are two copies,
    // and which one is right is for a person to say.
    let same_channel = current.source_kind == Some(src.kind)
        && !(src.kind == SourceKind::Scan && current.scanned_page_id != src.scanned_page_id);
    if same_channel || src.kind == SourceKind::Person {
        Decision::Supersede(current.id)
    } else {
        Decision::Conflict(current.id)
    }
}

/// id, response, field key, value, source kind, page: what [`accepted_answers_of`] reads.
type AcceptedColumns = (i64, i64, String, Option<String>, String, Option<i64>);

/// Response ids per query: far below both databases' limits on parameters.
const LOOKUP_IDS: usize = 1000;

/// The accepted answers of several responses at once, as [`accepted_answer`] gives them one by
/// one: (response, field key) → the newest accepted answer.
pub async fn accepted_answers_of<C: ConnectionTrait>(
    conn: &C,
    response_ids: &[i64],
) -> Result<HashMap<(i64, String), Accepted>> {
    let mut out: HashMap<(i64, String), Accepted> = HashMap::new();
    for ids in response_ids.chunks(LOOKUP_IDS) {
        // Only what the rules look at: a large import loads hundreds of thousands of these.
        let found: Vec<AcceptedColumns> = answers::Entity::find()
            .select_only()
            .columns([
                answers::Column::Id,
                answers::Column::ResponseId,
                answers::Column::FieldKey,
                answers::Column::Value,
                answers::Column::SourceKind,
                answers::Column::ScannedPageId,
            ])
            .filter(answers::Column::ResponseId.is_in(ids.iter().copied()))
            .filter(answers::Column::Status.eq("accepted"))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, response_id, field_key, value, source_kind, scanned_page_id) in found {
            let accepted = Accepted {
                id,
                value,
                source_kind: source_kind_named(&source_kind),
                scanned_page_id,
            };
            match out.entry((response_id, field_key)) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    if o.get().id < accepted.id {
                        o.insert(accepted);
                    }
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(accepted);
                }
            }
        }
    }
    Ok(out)
}

/// A value to store as the first of its field ([`insert_first_answers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FirstAnswer<'a> {
    /// The response.
    pub response_id: i64,
    /// The field.
    pub field_key: &'a str,
    /// The value, encoded with [`encode_value`].
    pub value: Option<String>,
    /// How sure the machine is.
    pub confidence: Option<f64>,
    /// Where it came from.
    pub src: Source,
}

/// Stores values that [`decide`] said to accept as the first of their fields
/// ([`Decision::Insert`]), with multi-row INSERTs: what [`put_answer`] does for each, in one
/// statement per few thousand.
pub async fn insert_first_answers<C: ConnectionTrait>(
    conn: &C,
    answers: Vec<FirstAnswer<'_>>,
) -> Result<()> {
    let rows = answers
        .into_iter()
        .map(|a| AnswerRow {
            response_id: a.response_id,
            field_key: a.field_key,
            value: a.value,
            confidence: a.confidence,
            src: Cow::Owned(a.src),
            status: "accepted",
        })
        .collect();
    insert_answer_rows(conn, rows, false).await?;
    Ok(())
}

/// Stores a value the machine or an import is sure of, following the rules in the module docs.
#[allow(clippy::too_many_arguments)]
pub async fn put_answer<C: ConnectionTrait>(
    conn: &C,
    response: &responses::Model,
    field_key: &str,
    value: Option<Value>,
    confidence: Option<f64>,
    src: &Source,
    actor: &str,
) -> Result<Put> {
    let current = accepted_answer(conn, response.id, field_key).await?;
    let decision = decide(
        current.as_ref().map(Accepted::from).as_ref(),
        encode(&value).as_deref(),
        src,
    );
    let current = match (decision, current) {
        (Decision::Unchanged(id), _) => return Ok(Put::Unchanged(id)),
        (Decision::Supersede(_) | Decision::Conflict(_), Some(current)) => current,
        // Decision::Insert: nothing is accepted yet.
        _ => {
            let a = insert_answer(
                conn,
                response.id,
                field_key,
                &value,
                confidence,
                src,
                "accepted",
            )
            .await?;
            return Ok(Put::Inserted(a.id));
        }
    };
    if let Decision::Supersede(_) = decision {
        let new = insert_answer(
            conn,
            response.id,
            field_key,
            &value,
            confidence,
            src,
            "accepted",
        )
        .await?;
        let detail = serde_json::json!({"field": field_key, "old": current.value, "new": new.value, "from": src.source_ref});
        let old_id = current.id;
        supersede(conn, current, new.id).await?;
        audit(
            conn,
            actor,
            "answer.supersede",
            "answers",
            Some(new.id),
            detail,
        )
        .await?;
        return Ok(Put::Superseded {
            old: old_id,
            new: new.id,
        });
    }
    let pending = insert_answer(
        conn,
        response.id,
        field_key,
        &value,
        confidence,
        src,
        "review",
    )
    .await?;
    let payload = serde_json::json!({
        "accepted": {"answer": current.id, "value": current.value, "from": current.source_ref},
        "incoming": {"answer": pending.id, "value": pending.value, "from": src.source_ref},
    });
    let (task, _) = open_task(
        conn,
        NewTask {
            kind: TaskKind::Conflict,
            survey_version_id: Some(response.survey_version_id),
            response_id: Some(response.id),
            field_key: Some(field_key.to_owned()),
            answer_id: Some(pending.id),
            scanned_page_id: src.scanned_page_id,
            payload,
            dedup_key: format!("conflict:{}:{}", response.id, pending.id),
        },
    )
    .await?;
    Ok(Put::Conflict {
        answer: pending.id,
        task: task.id,
    })
}

/// Stores the machine's unsure reading (or a value that did not fit) as `review`, with its task.
///
/// Returns the task and whether it is new; a task with the same `dedup_key` is not queued twice.
pub async fn put_for_review<C: ConnectionTrait>(
    conn: &C,
    response: &responses::Model,
    field_key: &str,
    guess: Option<Value>,
    confidence: Option<f64>,
    src: &Source,
    task: NewTask,
) -> Result<(review_tasks::Model, bool)> {
    let mut done = put_for_review_many(
        conn,
        vec![ForReview {
            response,
            field_key,
            guess,
            confidence,
            src,
            task,
        }],
    )
    .await?;
    done.pop()
        .ok_or_else(|| StoreError::Corrupt("no task was written".into()))
}

/// One value for [`put_for_review_many`]: what [`put_for_review`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct ForReview<'a> {
    /// The response.
    pub response: &'a responses::Model,
    /// The field.
    pub field_key: &'a str,
    /// The machine's guess, if any.
    pub guess: Option<Value>,
    /// How sure it is.
    pub confidence: Option<f64>,
    /// Where it came from.
    pub src: &'a Source,
    /// The task to queue (its answer, response and field are filled in).
    pub task: NewTask,
}

/// [`put_for_review`] for many values at once, with the same result as calling it for each in
/// order: a value whose task (by `dedup_key`) exists, in the database or earlier in the list,
/// stores nothing and gets that task; the others are stored as `review` with a new task. Tasks
/// are looked up with one query per thousand values and answers and tasks inserted with
/// multi-row INSERTs. Returns per value its task and whether it is new.
pub async fn put_for_review_many<C: ConnectionTrait>(
    conn: &C,
    items: Vec<ForReview<'_>>,
) -> Result<Vec<(review_tasks::Model, bool)>> {
    let mut existing: HashMap<String, review_tasks::Model> = HashMap::new();
    let keys: Vec<&str> = items.iter().map(|i| i.task.dedup_key.as_str()).collect();
    for part in keys.chunks(LOOKUP_IDS) {
        for t in review_tasks::Entity::find()
            .filter(review_tasks::Column::DedupKey.is_in(part.iter().copied()))
            .all(conn)
            .await?
        {
            existing.insert(t.dedup_key.clone(), t);
        }
    }
    // Which values get a new task: the first with each key not in the database.
    let mut first_new: HashMap<&str, usize> = HashMap::new();
    let mut new: Vec<usize> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if !existing.contains_key(*key) && !first_new.contains_key(key) {
            first_new.insert(key, i);
            new.push(i);
        }
    }
    let rows = new
        .iter()
        .map(|&i| {
            let it = &items[i];
            AnswerRow {
                response_id: it.response.id,
                field_key: it.field_key,
                value: encode(&it.guess),
                confidence: it.confidence,
                src: Cow::Borrowed(it.src),
                status: "review",
            }
        })
        .collect();
    let answer_ids = insert_answer_rows(conn, rows, true).await?;
    let at = now();
    let mut created: HashMap<String, review_tasks::Model> = HashMap::new();
    let per = insert_rows(conn);
    for part in new.chunks(per).zip(answer_ids.chunks(per)) {
        let models = part.0.iter().zip(part.1).map(|(&i, &answer)| {
            let it = &items[i];
            let mut task = it.task.clone();
            task.answer_id = Some(answer);
            task.response_id = Some(it.response.id);
            task.field_key = Some(it.field_key.to_owned());
            task_row(task, at)
        });
        let mut insert = review_tasks::Entity::insert_many(models).into_query();
        insert.returning_all();
        for r in conn.query_all(&insert).await? {
            let t = review_tasks::Model::from_query_result(&r, "")?;
            created.insert(t.dedup_key.clone(), t);
        }
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            if let Some(t) = existing.get(*key) {
                return Ok((t.clone(), false));
            }
            let t = created
                .get(*key)
                .ok_or_else(|| StoreError::Corrupt(format!("task {key} was not written")))?;
            Ok((t.clone(), first_new.get(key) == Some(&i)))
        })
        .collect()
}

/// Kinds of review task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// A mark the machine could not decide.
    Mark,
    /// Handwriting to key in (write-ins, digit boxes).
    WriteIn,
    /// A page whose code could not be read.
    Page,
    /// A CSV/xlsx value that does not fit its question.
    Value,
    /// Two channels or copies disagree.
    Conflict,
    /// A sample of what the machine decided alone, to measure its accuracy.
    Quality,
}

impl TaskKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Mark => "mark",
            TaskKind::WriteIn => "write_in",
            TaskKind::Page => "page",
            TaskKind::Value => "value",
            TaskKind::Conflict => "conflict",
            TaskKind::Quality => "quality",
        }
    }
}

/// A task to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Kind.
    pub kind: TaskKind,
    /// Survey version, for filtering the queue.
    pub survey_version_id: Option<i64>,
    /// The response concerned.
    pub response_id: Option<i64>,
    /// The field concerned.
    pub field_key: Option<String>,
    /// The pending answer.
    pub answer_id: Option<i64>,
    /// The page concerned.
    pub scanned_page_id: Option<i64>,
    /// What the person needs to see (guess, confidence, raw text, crop path …).
    pub payload: serde_json::Value,
    /// Natural key: the same task is never queued twice.
    pub dedup_key: String,
}

/// Queues a task unless one with the same `dedup_key` exists; returns it and whether it is new.
pub async fn open_task<C: ConnectionTrait>(
    conn: &C,
    t: NewTask,
) -> Result<(review_tasks::Model, bool)> {
    if let Some(existing) = review_tasks::Entity::find()
        .filter(review_tasks::Column::DedupKey.eq(t.dedup_key.as_str()))
        .one(conn)
        .await?
    {
        return Ok((existing, false));
    }
    let m = task_row(t, now()).insert(conn).await?;
    Ok((m, true))
}

/// The row of a new task, as every insert writes it.
fn task_row(t: NewTask, at: chrono::DateTime<chrono::Utc>) -> review_tasks::ActiveModel {
    review_tasks::ActiveModel {
        kind: Set(t.kind.as_str().to_owned()),
        survey_version_id: Set(t.survey_version_id),
        response_id: Set(t.response_id),
        field_key: Set(t.field_key),
        answer_id: Set(t.answer_id),
        scanned_page_id: Set(t.scanned_page_id),
        payload: Set(t.payload.to_string()),
        status: Set("open".into()),
        lock_version: Set(0),
        resolved_by: Set(None),
        resolved_at: Set(None),
        dedup_key: Set(t.dedup_key),
        created_at: Set(at),
        ..Default::default()
    }
}

/// Open tasks, oldest first.
pub async fn open_tasks<C: ConnectionTrait>(conn: &C) -> Result<Vec<review_tasks::Model>> {
    Ok(review_tasks::Entity::find()
        .filter(review_tasks::Column::Status.eq("open"))
        .order_by_asc(review_tasks::Column::Id)
        .all(conn)
        .await?)
}

/// Closes a task with a person's decision for its field (if it has one).
///
/// `seen_lock_version` is the version the person was shown: if someone else decided first, this
/// fails with [`StoreError::Conflict`] and changes nothing (optimistic locking). The decision is
/// stored as a `person` answer that supersedes the accepted one; the machine's reading stays as
/// history beside it.
pub async fn resolve_task<C: ConnectionTrait>(
    conn: &C,
    task_id: i64,
    seen_lock_version: i32,
    decision: Option<Value>,
    person: &str,
) -> Result<Option<i64>> {
    let updated = review_tasks::Entity::update_many()
        .col_expr(review_tasks::Column::Status, Expr::value("done"))
        .col_expr(
            review_tasks::Column::LockVersion,
            Expr::value(seen_lock_version + 1),
        )
        .col_expr(review_tasks::Column::ResolvedBy, Expr::value(person))
        .col_expr(review_tasks::Column::ResolvedAt, Expr::value(now()))
        .filter(review_tasks::Column::Id.eq(task_id))
        .filter(review_tasks::Column::LockVersion.eq(seen_lock_version))
        .filter(review_tasks::Column::Status.eq("open"))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(StoreError::Conflict(format!(
            "review item {task_id} was changed by someone else since you opened it: reload to see their decision"
        )));
    }
    let task = review_tasks::Entity::find_by_id(task_id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("review item {task_id}")))?;
    let (Some(response_id), Some(field)) = (task.response_id, task.field_key.clone()) else {
        audit(
            conn,
            person,
            "review.resolve",
            "review_tasks",
            Some(task_id),
            serde_json::json!({}),
        )
        .await?;
        return Ok(None);
    };
    let response = responses::Entity::find_by_id(response_id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("response {response_id}")))?;
    let src = Source {
        kind: SourceKind::Person,
        source_ref: format!("review item {task_id} by {person}"),
        scanned_page_id: task.scanned_page_id,
        imported_file_id: None,
        row_number: None,
        person: Some(person.to_owned()),
    };
    let put = put_answer(
        conn,
        &response,
        &field,
        decision.clone(),
        None,
        &src,
        person,
    )
    .await?;
    let decided = match put {
        Put::Inserted(id) | Put::Unchanged(id) => id,
        Put::Superseded { new, .. } => new,
        Put::Conflict { answer, .. } => answer,
    };
    if let Some(pending) = task.answer_id.filter(|&a| a != decided)
        && let Some(a) = answers::Entity::find_by_id(pending).one(conn).await?
        && a.status == "review"
    {
        supersede(conn, a, decided).await?;
    }
    audit(
        conn,
        person,
        "review.resolve",
        "review_tasks",
        Some(task_id),
        serde_json::json!({"field": field, "machine": task.payload, "decision": encode(&decision)}),
    )
    .await?;
    Ok(Some(decided))
}
