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

use capsurvey_survey::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
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

async fn insert_answer<C: ConnectionTrait>(
    conn: &C,
    response_id: i64,
    field_key: &str,
    value: &Option<Value>,
    confidence: Option<f64>,
    src: &Source,
    status: &str,
) -> Result<answers::Model> {
    Ok(answers::ActiveModel {
        response_id: Set(response_id),
        field_key: Set(field_key.to_owned()),
        value: Set(encode(value)),
        source_kind: Set(src.kind.as_str().to_owned()),
        source_ref: Set(src.source_ref.clone()),
        scanned_page_id: Set(src.scanned_page_id),
        imported_file_id: Set(src.imported_file_id),
        row_number: Set(src.row_number),
        person: Set(src.person.clone()),
        confidence: Set(confidence),
        status: Set(status.to_owned()),
        superseded_by: Set(None),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

async fn supersede<C: ConnectionTrait>(conn: &C, old: answers::Model, new_id: i64) -> Result<()> {
    let mut a: answers::ActiveModel = old.into();
    a.status = Set("superseded".into());
    a.superseded_by = Set(Some(new_id));
    a.update(conn).await?;
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
    let Some(current) = current else {
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
    };
    if current.value == encode(&value) {
        return Ok(Put::Unchanged(current.id));
    }
    // A newer CSV replaces an older one; but two different faxes of the same page are two copies,
    // and which one is right is for a person to say.
    let same_channel = current.source_kind == src.kind.as_str()
        && !(src.kind == SourceKind::Scan && current.scanned_page_id != src.scanned_page_id);
    if same_channel || src.kind == SourceKind::Person {
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
    mut task: NewTask,
) -> Result<(review_tasks::Model, bool)> {
    if let Some(existing) = review_tasks::Entity::find()
        .filter(review_tasks::Column::DedupKey.eq(task.dedup_key.as_str()))
        .one(conn)
        .await?
    {
        return Ok((existing, false));
    }
    let a = insert_answer(
        conn,
        response.id,
        field_key,
        &guess,
        confidence,
        src,
        "review",
    )
    .await?;
    task.answer_id = Some(a.id);
    task.response_id = Some(response.id);
    task.field_key = Some(field_key.to_owned());
    open_task(conn, task).await
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
    let m = review_tasks::ActiveModel {
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
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((m, true))
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
    if let Some(pending) = task.answer_id.filter(|&a| a != decided) {
        if let Some(a) = answers::Entity::find_by_id(pending).one(conn).await? {
            if a.status == "review" {
                supersede(conn, a, decided).await?;
            }
        }
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
