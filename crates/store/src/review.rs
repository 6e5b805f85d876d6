//! What the review site does besides deciding fields: assigning unidentified pages, and sampling
//! what the machine decided alone into the queue as quality checks.
//!
//! Hooks for the scan ingest (documented in `docs/review.md`):
//! - after storing a batch of scan answers, call [`sample_quality_checks`] (or
//!   [`sample_quality_checks_with`] to add the crop of each sampled box) so that a share of the
//!   automatically accepted boxes is checked by a person;
//! - pages a person identified have status `assigned`: [`pages_awaiting_reread`] lists them and
//!   [`page_assignment`] says which survey version, page and facility they are; after reading
//!   their marks the scan side sets their status to `identified`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Query,
};
use sha2::{Digest, Sha256};

use crate::answers::{NewTask, TaskKind, decode_value, open_task, response_for};
use crate::entity::{answers, audit_log, mailings, responses, review_tasks, scanned_pages};
use crate::ops::audit;
use crate::{Result, StoreError};

/// The share of automatically accepted boxes sampled into the queue when nothing else is configured (1%).
pub const DEFAULT_QUALITY_SHARE: f64 = 0.01;

/// Whether the answer with this id belongs to the quality sample at this share.
///
/// Deterministic: the same answer is always in or out for the same share, and a larger share
/// contains every answer a smaller one does, so re-running the sampling never grows the sample
/// beyond its share.
pub fn in_quality_sample(answer_id: i64, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    if share >= 1.0 {
        return true;
    }
    let h = Sha256::digest(format!("capsurvey-quality:{answer_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    (u64::from_be_bytes(first) as f64 / u64::MAX as f64) < share
}

/// Queues quality checks for a share of the scan answers of a survey version that the machine
/// accepted alone (`source_kind = scan`, `status = accepted`).
///
/// Each task (kind `quality`, dedup key `quality:<answer id>`) shows the machine's value as its
/// `guess`; resolving it tells how often unreviewed readings are right. Returns the new tasks.
pub async fn sample_quality_checks<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
    share: f64,
) -> Result<Vec<review_tasks::Model>> {
    sample_quality_checks_with(conn, survey_version_id, share, |_| {
        Ok::<_, StoreError>(None)
    })
    .await
}

/// Like [`sample_quality_checks`], with `evidence` adding payload keys for each sampled answer
/// (the scan side passes the crop: `{"crop": "…png", "box": {…}}`), merged into the payload.
/// An error from `evidence` (the crop could not be written) stops the sampling before that
/// answer's task is made, so that a later run makes it complete.
pub async fn sample_quality_checks_with<C, F, E>(
    conn: &C,
    survey_version_id: i64,
    share: f64,
    mut evidence: F,
) -> std::result::Result<Vec<review_tasks::Model>, E>
where
    C: ConnectionTrait,
    F: FnMut(&answers::Model) -> std::result::Result<Option<serde_json::Value>, E>,
    E: From<StoreError>,
{
    let responses_of_version = Query::select()
        .column(responses::Column::Id)
        .from(responses::Entity)
        .and_where(responses::Column::SurveyVersionId.eq(survey_version_id))
        .to_owned();
    let candidates = answers::Entity::find()
        .filter(answers::Column::SourceKind.eq("scan"))
        .filter(answers::Column::Status.eq("accepted"))
        .filter(answers::Column::ResponseId.in_subquery(responses_of_version))
        .order_by_asc(answers::Column::Id)
        .all(conn)
        .await
        .map_err(StoreError::from)?;
    let mut created = Vec::new();
    for a in candidates {
        if !in_quality_sample(a.id, share) {
            continue;
        }
        let guess = decode_value(&a.value)?;
        let image = match a.scanned_page_id {
            Some(p) => scanned_pages::Entity::find_by_id(p)
                .one(conn)
                .await
                .map_err(StoreError::from)?
                .and_then(|p| p.image_path),
            None => None,
        };
        let mut payload = serde_json::json!({
            "guess": guess,
            "confidence": a.confidence,
            "answer": a.id,
            "source": a.source_ref,
            "image": image,
        });
        if let Some(serde_json::Value::Object(extra)) = evidence(&a)?
            && let serde_json::Value::Object(p) = &mut payload
        {
            p.extend(extra);
        }
        let (task, new) = open_task(
            conn,
            NewTask {
                kind: TaskKind::Quality,
                survey_version_id: Some(survey_version_id),
                response_id: Some(a.response_id),
                field_key: Some(a.field_key.clone()),
                answer_id: Some(a.id),
                scanned_page_id: a.scanned_page_id,
                payload,
                dedup_key: format!("quality:{}", a.id),
            },
        )
        .await?;
        if new {
            created.push(task);
        }
    }
    Ok(created)
}

/// Which survey version, page and facility a person said an unidentified page is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PageAssignment {
    /// The page.
    pub scanned_page_id: i64,
    /// The survey version it belongs to.
    pub survey_version_id: i64,
    /// 1-based page number of the form.
    pub page_number: i32,
    /// The facility that sent it.
    pub facility_id: i64,
    /// The mailing of that survey version to that facility, if one was sent.
    pub mailing_id: Option<i64>,
    /// The facility's response, where the page's answers go.
    pub response_id: i64,
}

/// Records a person's identification of a page: its survey version, mailing and page number
/// (status `assigned`), creates the facility's response if needed, and audits `page.assign`.
///
/// The page's marks are not read here: the scan side re-reads pages with status `assigned`.
pub async fn assign_page<C: ConnectionTrait>(
    conn: &C,
    scanned_page_id: i64,
    survey_version_id: i64,
    facility_id: i64,
    page_number: i32,
    actor: &str,
) -> Result<PageAssignment> {
    let page = scanned_pages::Entity::find_by_id(scanned_page_id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("scanned page {scanned_page_id}")))?;
    let mailing = mailings::Entity::find()
        .filter(mailings::Column::SurveyVersionId.eq(survey_version_id))
        .filter(mailings::Column::FacilityId.eq(facility_id))
        .order_by_desc(mailings::Column::Id)
        .one(conn)
        .await?;
    let mailing_id = mailing.map(|m| m.id);
    let response = response_for(conn, survey_version_id, facility_id, mailing_id).await?;
    let before = serde_json::json!({
        "status": page.status,
        "survey_version_id": page.survey_version_id,
        "mailing_id": page.mailing_id,
        "page_number": page.page_number,
    });
    let mut a: scanned_pages::ActiveModel = page.into();
    a.survey_version_id = Set(Some(survey_version_id));
    a.mailing_id = Set(mailing_id);
    a.page_number = Set(Some(page_number));
    a.status = Set("assigned".into());
    a.update(conn).await?;
    let assignment = PageAssignment {
        scanned_page_id,
        survey_version_id,
        page_number,
        facility_id,
        mailing_id,
        response_id: response.id,
    };
    audit(
        conn,
        actor,
        "page.assign",
        "scanned_pages",
        Some(scanned_page_id),
        serde_json::json!({"before": before, "after": assignment}),
    )
    .await?;
    Ok(assignment)
}

/// The latest assignment of a page by a person, if it was assigned.
pub async fn page_assignment<C: ConnectionTrait>(
    conn: &C,
    scanned_page_id: i64,
) -> Result<Option<PageAssignment>> {
    let row = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("page.assign"))
        .filter(audit_log::Column::Entity.eq("scanned_pages"))
        .filter(audit_log::Column::EntityId.eq(scanned_page_id))
        .order_by_desc(audit_log::Column::Id)
        .limit(1)
        .one(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let detail: serde_json::Value = serde_json::from_str(&row.detail)
        .map_err(|e| StoreError::Corrupt(format!("audit row {}: {e}", row.id)))?;
    let after = &detail["after"];
    let get = |k: &str| after[k].as_i64();
    match (
        get("survey_version_id"),
        get("page_number"),
        get("facility_id"),
        get("response_id"),
    ) {
        (Some(sv), Some(p), Some(f), Some(r)) => Ok(Some(PageAssignment {
            scanned_page_id,
            survey_version_id: sv,
            page_number: p as i32,
            facility_id: f,
            mailing_id: get("mailing_id"),
            response_id: r,
        })),
        _ => Err(StoreError::Corrupt(format!(
            "audit row {} does not describe a page assignment",
            row.id
        ))),
    }
}

/// Pages a person identified whose marks still have to be read (status `assigned`), oldest first.
pub async fn pages_awaiting_reread<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find()
        .filter(scanned_pages::Column::Status.eq("assigned"))
        .order_by_asc(scanned_pages::Column::Id)
        .all(conn)
        .await?)
}

/// How long a person's claim on an opened task keeps it from being offered to others, minutes.
/// Long enough to key in a write-in from its image; an abandoned task comes back on its own.
pub const CLAIM_MINUTES: i64 = 10;

/// The moment before which a claim has lapsed.
pub fn claim_cutoff(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now - chrono::Duration::minutes(CLAIM_MINUTES)
}

/// A condition on review tasks: nobody but `person` holds a live claim on it.
pub fn unclaimed_for(person: &str, now: chrono::DateTime<chrono::Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(review_tasks::Column::ClaimedBy.is_null())
        .add(review_tasks::Column::ClaimedBy.eq(person))
        .add(review_tasks::Column::ClaimedAt.lt(claim_cutoff(now)))
}

/// Who holds a live claim on `task`, when it is someone other than `person` (the in-memory
/// side of [`unclaimed_for`]).
pub fn claimed_by_other<'a>(
    task: &'a review_tasks::Model,
    person: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<&'a str> {
    let who = task.claimed_by.as_deref()?;
    (who != person && task.claimed_at? >= claim_cutoff(now)).then_some(who)
}

/// Claims an open task for `person` (or renews their claim): `false` when the task is no longer
/// open or someone else holds a live claim on it. One conditional update, so of two people
/// claiming at once exactly one wins.
pub async fn claim_task<C: ConnectionTrait>(
    conn: &C,
    task_id: i64,
    person: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let done = review_tasks::Entity::update_many()
        .col_expr(
            review_tasks::Column::ClaimedBy,
            sea_orm::sea_query::Expr::value(person),
        )
        .col_expr(
            review_tasks::Column::ClaimedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(review_tasks::Column::Id.eq(task_id))
        .filter(review_tasks::Column::Status.eq("open"))
        .filter(unclaimed_for(person, now))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Gives up `person`'s claim on a task (they moved on without deciding it), so that the next
/// person is offered it at once rather than when the claim lapses.
pub async fn release_claim<C: ConnectionTrait>(conn: &C, task_id: i64, person: &str) -> Result<()> {
    review_tasks::Entity::update_many()
        .col_expr(
            review_tasks::Column::ClaimedBy,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            review_tasks::Column::ClaimedAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(review_tasks::Column::Id.eq(task_id))
        .filter(review_tasks::Column::ClaimedBy.eq(person))
        .exec(conn)
        .await?;
    Ok(())
}
