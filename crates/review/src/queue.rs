//! The queue: open review tasks oldest first, one shown in full with its decision form.

use std::collections::{HashMap, HashSet};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use capsurvey_store::entity::{
    audit_log, facilities, responses, review_tasks, scanned_pages, survey_versions,
};
use capsurvey_store::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, TransactionTrait, sea_query::Expr,
};
use capsurvey_store::{StoreError, decode_value};
use capsurvey_survey::{Field, FieldKind, Survey, Value};
use serde::Deserialize;
use serde_json::json;

use crate::auth::CurrentUser;
use crate::values::{self, display_value, find_field, input_text, options_of};
use crate::web::{self, Fields, file_url, jst, qs};
use crate::{App, Result, ReviewError};

/// The kinds of task, in the order the filter lists them, with their Japanese names.
pub const KINDS: [(&str, &str); 6] = [
    ("mark", "不確かなマーク"),
    ("write_in", "手書き・数字欄"),
    ("page", "識別できないページ"),
    ("value", "CSVの値"),
    ("conflict", "食い違い"),
    ("quality", "抜き取り確認"),
];

/// The Japanese name of a task kind.
pub fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

/// Queue filters, kept in every link and form of the queue.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    /// Survey id (`dental`), all versions.
    #[serde(default)]
    pub survey: Option<String>,
    /// Task kind.
    #[serde(default)]
    pub kind: Option<String>,
}

impl Filter {
    fn survey(&self) -> Option<&str> {
        self.survey.as_deref().filter(|s| !s.is_empty())
    }
    fn kind(&self) -> Option<&str> {
        self.kind.as_deref().filter(|s| !s.is_empty())
    }
    /// `survey=…&kind=…`.
    pub fn query(&self) -> String {
        format!(
            "survey={}&kind={}",
            qs(self.survey().unwrap_or("")),
            qs(self.kind().unwrap_or(""))
        )
    }
}

async fn versions(app: &App) -> Result<Vec<survey_versions::Model>> {
    Ok(capsurvey_store::survey_versions(app.store().db()).await?)
}

/// Open tasks matching the filter.
async fn open_select(app: &App, f: &Filter) -> Result<Select<review_tasks::Entity>> {
    let mut q = review_tasks::Entity::find().filter(review_tasks::Column::Status.eq("open"));
    if let Some(k) = f.kind() {
        q = q.filter(review_tasks::Column::Kind.eq(k));
    }
    if let Some(s) = f.survey() {
        let ids: Vec<i64> = versions(app)
            .await?
            .into_iter()
            .filter(|v| v.survey_id == s)
            .map(|v| v.id)
            .collect();
        q = q.filter(review_tasks::Column::SurveyVersionId.is_in(ids));
    }
    Ok(q)
}

/// `GET /`.
pub async fn home() -> Redirect {
    Redirect::to("/queue")
}

/// `GET /queue?survey=&kind=`: the oldest open task nobody else has open, in full (claimed for
/// this person), the rest listed beside it.
pub async fn queue_page(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Query(f): Query<Filter>,
) -> Result<Response> {
    if let Some(task) = claim_first(&app, &user, &f, None, false).await? {
        return render_queue(&app, &user, &f, Some(task), None, StatusCode::OK).await;
    }
    // Everything left is open in someone's hands: show the oldest, and say so.
    let first = open_select(&app, &f)
        .await?
        .order_by_asc(review_tasks::Column::Id)
        .one(app.store().db())
        .await
        .map_err(StoreError::from)?;
    let notice = first.as_ref().and_then(|t| claimed_notice(t, &user));
    render_queue(&app, &user, &f, first, notice, StatusCode::OK).await
}

/// `GET /tasks/{id}`: one task (open or done) in the queue page.
pub async fn task_page(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(f): Query<Filter>,
) -> Result<Response> {
    let mut task = load_task(&app, id).await?;
    let mut notice = None;
    if task.status == "open" && user.role.can_edit() && !claim(&app, &mut task, &user).await? {
        notice = claimed_notice(&task, &user);
    }
    render_queue(&app, &user, &f, Some(task), notice, StatusCode::OK).await
}

/// Claims an open task for `user` (see [`capsurvey_store::review::claim_task`]), and says so in
/// the model; `false` when someone else has it open.
async fn claim(app: &App, task: &mut review_tasks::Model, user: &CurrentUser) -> Result<bool> {
    let now = capsurvey_store::now();
    let claimed =
        capsurvey_store::review::claim_task(app.store().db(), task.id, &user.name, now).await?;
    if claimed {
        task.claimed_by = Some(user.name.clone());
        task.claimed_at = Some(now);
    }
    Ok(claimed)
}

/// The first open task after (or before, `back`) `after` in id order that nobody else has
/// open, claimed for `user`. Losing a claim to someone quicker moves on to the following task.
async fn claim_first(
    app: &App,
    user: &CurrentUser,
    f: &Filter,
    mut after: Option<i64>,
    back: bool,
) -> Result<Option<review_tasks::Model>> {
    let db = app.store().db();
    loop {
        let now = capsurvey_store::now();
        let mut q = open_select(app, f)
            .await?
            .filter(capsurvey_store::review::unclaimed_for(&user.name, now));
        q = match (after, back) {
            (Some(a), false) => q.filter(review_tasks::Column::Id.gt(a)),
            (Some(a), true) => q.filter(review_tasks::Column::Id.lt(a)),
            (None, _) => q,
        };
        q = if back {
            q.order_by_desc(review_tasks::Column::Id)
        } else {
            q.order_by_asc(review_tasks::Column::Id)
        };
        let Some(mut task) = q.one(db).await.map_err(StoreError::from)? else {
            return Ok(None);
        };
        // A viewer only looks: no claim, which would hold the task back from the staff.
        if !user.role.can_edit() || claim(app, &mut task, user).await? {
            return Ok(Some(task));
        }
        after = Some(task.id);
    }
}

/// Whose hands a task is in, when another person's claim on it is live.
fn claimed_by_other<'a>(task: &'a review_tasks::Model, user: &CurrentUser) -> Option<&'a str> {
    capsurvey_store::review::claimed_by_other(task, &user.name, capsurvey_store::now())
}

/// "Someone else has this open" above a task.
fn claimed_notice(task: &review_tasks::Model, user: &CurrentUser) -> Option<Notice> {
    let who = claimed_by_other(task, user)?;
    Some(Notice {
        kind: "conflict",
        title: format!("{who} さんが確認中です"),
        text: format!(
            "{} から開いています。同時に決定すると、後の決定は受け付けられません。\
             ほかの項目に進むには「次へ」を押してください。",
            task.claimed_at.as_ref().map(jst).unwrap_or_default()
        ),
    })
}

async fn load_task(app: &App, id: i64) -> Result<review_tasks::Model> {
    review_tasks::Entity::find_by_id(id)
        .one(app.store().db())
        .await
        .map_err(StoreError::from)?
        .ok_or_else(|| ReviewError::NotFound(format!("確認項目 {id} はありません。")))
}

/// Query of `/queue/next`.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    after: Option<i64>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(flatten)]
    filter: Filter,
}

/// `GET /queue/next?after=ID[&dir=prev]`: the next (or previous) open task that nobody else has
/// open, wrapping around; claimed for this person, whose claim on task `ID` ends.
pub async fn next(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<NextQuery>,
) -> Result<Redirect> {
    let f = &q.filter;
    let back = q.dir.as_deref() == Some("prev");
    if let Some(left) = q.after {
        capsurvey_store::review::release_claim(app.store().db(), left, &user.name).await?;
    }
    let found = match claim_first(&app, &user, f, q.after, back).await? {
        Some(t) => Some(t),
        None if q.after.is_some() => claim_first(&app, &user, f, None, back).await?,
        None => None,
    };
    Ok(match found {
        Some(t) => Redirect::to(&format!("/tasks/{}?{}", t.id, f.query())),
        None => Redirect::to(&format!("/queue?{}", f.query())),
    })
}

/// A message shown above the task.
struct Notice {
    kind: &'static str,
    title: String,
    text: String,
}

async fn render_queue(
    app: &App,
    user: &CurrentUser,
    f: &Filter,
    current: Option<review_tasks::Model>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response> {
    let db = app.store().db();
    let all_versions = versions(app).await?;
    let mut surveys: Vec<serde_json::Value> = Vec::new();
    let mut seen = HashSet::new();
    for v in &all_versions {
        if seen.insert(v.survey_id.clone()) {
            surveys.push(json!({"id": v.survey_id, "title": v.title}));
        }
    }
    // Counts per kind under the survey filter (the kind filter is what they choose between).
    let by_survey = Filter {
        survey: f.survey.clone(),
        kind: None,
    };
    let counts: Vec<(String, i64)> = open_select(app, &by_survey)
        .await?
        .select_only()
        .column(review_tasks::Column::Kind)
        .column_as(review_tasks::Column::Id.count(), "n")
        .group_by(review_tasks::Column::Kind)
        .into_tuple()
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|(k, l)| json!({"kind": k, "label": l, "count": counts.get(*k).copied().unwrap_or(0)}))
        .collect();
    let total: i64 = counts.values().sum();

    let listed = open_select(app, f)
        .await?
        .order_by_asc(review_tasks::Column::Id)
        .limit(200)
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let facility_names = facility_names(app, listed.iter().filter_map(|t| t.response_id)).await?;
    let mut list = Vec::new();
    for t in &listed {
        let field = match (t.survey_version_id, &t.field_key) {
            (Some(sv), Some(k)) => field_label(&*app.definition(sv).await?, k),
            (_, Some(k)) => k.clone(),
            _ => String::new(),
        };
        let facility = t
            .response_id
            .and_then(|r| facility_names.get(&r))
            .cloned()
            .unwrap_or_default();
        list.push(json!({
            "id": t.id,
            "kind": t.kind,
            "kind_label": kind_label(&t.kind),
            "field": field,
            "facility": facility,
            "created": jst(&t.created_at),
            "current": current.as_ref().is_some_and(|c| c.id == t.id),
            "claimed_by": claimed_by_other(t, user),
        }));
    }
    let task = match &current {
        Some(t) => Some(task_view(app, t).await?),
        None => None,
    };
    let ctx = web::with(
        web::base(app, user, "queue").await?,
        json!({
            "filter": {
                "survey": f.survey().unwrap_or(""),
                "kind": f.kind().unwrap_or(""),
                "query": f.query(),
                "survey_query": format!("survey={}", qs(f.survey().unwrap_or(""))),
            },
            "surveys": surveys,
            "kinds": kinds,
            "total": total,
            "list": list,
            "more": listed.len() as i64 >= 200 && total > 200,
            "task": task,
            "notice": notice.map(|n| json!({"kind": n.kind, "title": n.title, "text": n.text})),
            "versions": all_versions.iter().map(|v| json!({"id": v.id, "label": format!("{} v{}（{}）", v.survey_id, v.version, v.title)})).collect::<Vec<_>>(),
        }),
    );
    Ok((status, web::render(app, "queue.html", &ctx)?).into_response())
}

/// `問8`, `問4 常勤`, `問16 その他（記入）`.
pub fn field_label(survey: &Survey, key: &str) -> String {
    let Some(field) = find_field(survey, key) else {
        return key.to_owned();
    };
    let number = survey
        .number_of(&field.question.id)
        .unwrap_or_else(|| field.question.id.clone());
    match (field.part, field.part_label()) {
        (Some(_), Some(l)) if field.question.option(field.part.unwrap_or("")).is_some() => {
            format!("問{number} {l}（記入）")
        }
        (Some(_), Some(l)) => format!("問{number} {l}"),
        _ => format!("問{number}"),
    }
}

/// Facility `name（code）` per response id.
pub async fn facility_names(
    app: &App,
    response_ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let ids: Vec<i64> = response_ids.collect::<HashSet<_>>().into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let db = app.store().db();
    let rs = responses::Entity::find()
        .filter(responses::Column::Id.is_in(ids))
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let fids: Vec<i64> = rs.iter().map(|r| r.facility_id).collect();
    let fs: HashMap<i64, facilities::Model> = facilities::Entity::find()
        .filter(facilities::Column::Id.is_in(fids))
        .all(db)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(rs
        .into_iter()
        .filter_map(|r| {
            fs.get(&r.facility_id)
                .map(|f| (r.id, format!("{}（{}）", f.name, f.code)))
        })
        .collect())
}

fn payload_of(task: &review_tasks::Model) -> serde_json::Value {
    serde_json::from_str(&task.payload).unwrap_or_else(|_| json!({}))
}

/// The machine's guess in a payload: absent (no guess), null (no mark), or a value.
fn guess_of(payload: &serde_json::Value) -> Option<Option<Value>> {
    let g = payload.get("guess")?;
    if g.is_null() {
        return Some(None);
    }
    serde_json::from_value::<Value>(g.clone()).ok().map(Some)
}

/// A value stored as JSON text (conflict payloads carry the answers' stored values).
fn stored_value(v: &serde_json::Value) -> Option<Value> {
    match v {
        serde_json::Value::String(s) => decode_value(&Some(s.clone())).ok().flatten(),
        serde_json::Value::Null => None,
        other => serde_json::from_value(other.clone()).ok(),
    }
}

fn rect_of(v: &serde_json::Value) -> Option<serde_json::Value> {
    let n = |k: &str| v.get(k).and_then(|x| x.as_f64());
    Some(json!({"x": n("x")?, "y": n("y")?, "w": n("w")?, "h": n("h")?}))
}

fn chosen(field: &Field<'_>, guess: &Option<Value>, code: &str) -> bool {
    match (field.kind, guess) {
        (_, Some(Value::Choice(c))) => c == code,
        (_, Some(Value::Choices(cs))) => cs.iter().any(|c| c == code),
        (FieldKind::YesNo, Some(Value::Bool(b))) => {
            (*b && code == capsurvey_survey::YES) || (!*b && code == capsurvey_survey::NO)
        }
        _ => false,
    }
}

/// Everything the template needs to show one task.
async fn task_view(app: &App, t: &review_tasks::Model) -> Result<serde_json::Value> {
    let db = app.store().db();
    let payload = payload_of(t);
    let version = match t.survey_version_id {
        Some(id) => survey_versions::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(StoreError::from)?,
        None => None,
    };
    let survey = match &version {
        Some(v) => Some(app.definition(v.id).await?),
        None => None,
    };
    let field = match (&survey, &t.field_key) {
        (Some(s), Some(k)) => find_field(s, k),
        _ => None,
    };
    let facility = match t.response_id {
        Some(r) => facility_names(app, std::iter::once(r)).await?.remove(&r),
        None => None,
    };
    let page = match t.scanned_page_id {
        Some(p) => scanned_pages::Entity::find_by_id(p)
            .one(db)
            .await
            .map_err(StoreError::from)?,
        None => None,
    };
    let pending = match t.answer_id {
        Some(a) => capsurvey_store::entity::answers::Entity::find_by_id(a)
            .one(db)
            .await
            .map_err(StoreError::from)?,
        None => None,
    };

    let guess = guess_of(&payload);
    let confidence = payload
        .get("confidence")
        .and_then(|c| c.as_f64())
        .or(pending.as_ref().and_then(|a| a.confidence));
    let conflict = t.kind == "conflict";
    let options: Vec<serde_json::Value> = field
        .as_ref()
        .map(|f| {
            options_of(f)
                .into_iter()
                .map(|o| {
                    let is_chosen = guess.as_ref().is_some_and(|g| chosen(f, g, &o.code));
                    json!({
                        "code": o.code,
                        "label": o.label,
                        "key": if conflict { None } else { o.key },
                        "chosen": is_chosen,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let widget = match field.as_ref().map(|f| f.kind) {
        Some(FieldKind::Single | FieldKind::YesNo) => "choice",
        Some(FieldKind::Multiple) => "multi",
        Some(FieldKind::Count | FieldKind::Decimal | FieldKind::Text) => "input",
        None if t.kind == "page" => "page",
        None => "raw",
    };
    let field_view = field.as_ref().map(|f| {
        let q = f.question;
        json!({
            "key": f.key(),
            "label": survey.as_ref().map(|s| field_label(s, &f.key())).unwrap_or_default(),
            "text": q.text,
            "note": q.note,
            "kind": values::kind_name(f.kind),
            "kind_label": values::kind_label(f.kind),
            "unit": if q.kind.is_numeric() { q.unit.clone() } else { None },
            "min": if q.kind.is_numeric() { Some(q.min.unwrap_or(0.0)) } else { None },
            "max": if q.kind.is_numeric() { q.max } else { None },
            "numeric": matches!(f.kind, FieldKind::Count | FieldKind::Decimal),
            "range": q.kind.is_numeric().then(|| format!(
                "{}〜{}{}",
                values::number_text(q.min.unwrap_or(0.0)),
                q.max.map(values::number_text).unwrap_or_default(),
                q.unit.clone().unwrap_or_default()
            )),
        })
    });
    let crop = payload.get("crop").and_then(|c| c.as_str()).map(|path| {
        let mut boxes: Vec<serde_json::Value> = Vec::new();
        if let Some(b) = payload.get("box").and_then(rect_of) {
            boxes.push(b);
        }
        if let Some(bs) = payload.get("boxes").and_then(|b| b.as_array()) {
            boxes.extend(bs.iter().filter_map(rect_of));
        }
        json!({"url": file_url(path), "boxes": boxes})
    });
    let image = payload
        .get("image")
        .and_then(|c| c.as_str())
        .map(str::to_owned)
        .or(page.as_ref().and_then(|p| p.image_path.clone()))
        .map(|p| file_url(&p));
    let guess_view = guess.as_ref().map(|g| {
        json!({
            "display": display_value(field.as_ref(), g),
            "confidence": confidence.map(|c| format!("{c:.2}")),
            "band": values::confidence_band(confidence),
            "low": confidence.is_some_and(|c| c < 0.6),
        })
    });
    let input_default = match (&guess, t.kind.as_str()) {
        (Some(g), _) => input_text(g),
        (None, "value") => payload
            .get("raw")
            .and_then(|r| r.as_str())
            .unwrap_or("")
            .to_owned(),
        _ => String::new(),
    };
    let side = |k: &str| {
        payload.get(k).map(|s| {
            let v = stored_value(&s["value"]);
            json!({
                "display": display_value(field.as_ref(), &v),
                "from": s.get("from").and_then(|x| x.as_str()).unwrap_or(""),
            })
        })
    };
    let conflict_view =
        conflict.then(|| json!({"accepted": side("accepted"), "incoming": side("incoming")}));
    let value_view = (t.kind == "value").then(|| {
        json!({
            "raw": payload.get("raw").and_then(|x| x.as_str()).unwrap_or(""),
            "file": payload.get("file").and_then(|x| x.as_str()).unwrap_or(""),
            "row": payload.get("row"),
            "column": payload.get("column").and_then(|x| x.as_str()).unwrap_or(""),
            "reason": payload.get("reason").and_then(|x| x.as_str()).unwrap_or(""),
        })
    });
    let page_view = (t.kind == "page").then(|| {
        json!({
            "file": payload.get("file").and_then(|x| x.as_str()).map(str::to_owned)
                .or(page.as_ref().map(|p| p.source_file.clone())).unwrap_or_default(),
            "page_index": payload.get("page_index").and_then(|x| x.as_i64())
                .or(page.as_ref().map(|p| p.page_index as i64)).map(|i| i + 1),
        })
    });
    let done = if t.status == "open" {
        None
    } else {
        Some(decision_of(app, t, field.as_ref()).await?)
    };
    Ok(json!({
        "id": t.id,
        "kind": t.kind,
        "kind_label": kind_label(&t.kind),
        "open": t.status == "open",
        "lock": t.lock_version,
        "created": jst(&t.created_at),
        "survey": version.as_ref().map(|v| json!({"id": v.survey_id, "version": v.version, "title": v.title})),
        "facility": facility,
        "response_id": t.response_id,
        "field": field_view,
        "field_key": t.field_key,
        "widget": widget,
        "options": options,
        "guess": guess_view,
        "has_guess": guess.is_some(),
        "input_default": input_default,
        "crop": crop,
        "image": image,
        "source": pending.as_ref().map(|a| a.source_ref.clone()).or(payload.get("source").and_then(|s| s.as_str()).map(str::to_owned)),
        "conflict": conflict_view,
        "value": value_view,
        "page": page_view,
        "done": done,
    }))
}

/// Who decided a closed task, when, and what.
async fn decision_of(
    app: &App,
    t: &review_tasks::Model,
    field: Option<&Field<'_>>,
) -> Result<serde_json::Value> {
    let db = app.store().db();
    let rows = audit_log::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(audit_log::Column::Entity.eq("review_tasks"))
                        .add(audit_log::Column::EntityId.eq(t.id)),
                )
                .add(
                    Condition::all()
                        .add(audit_log::Column::Entity.eq("scanned_pages"))
                        .add(audit_log::Column::EntityId.eq(t.scanned_page_id.unwrap_or(-1)))
                        .add(audit_log::Column::Action.is_in(["page.assign", "page.discard"])),
                ),
        )
        .order_by_desc(audit_log::Column::Id)
        .all(db)
        .await
        .map_err(StoreError::from)?;
    let mut what = String::from("（記録なし）");
    for r in &rows {
        let d: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or(json!({}));
        match r.action.as_str() {
            "page.assign" => {
                let a = &d["after"];
                let facility = match a["facility_id"].as_i64() {
                    Some(fid) => facilities::Entity::find_by_id(fid)
                        .one(db)
                        .await
                        .map_err(StoreError::from)?
                        .map(|f| format!("{}（{}）", f.name, f.code))
                        .unwrap_or_default(),
                    None => String::new(),
                };
                what = format!(
                    "{facility} の {} ページ目",
                    a["page_number"].as_i64().unwrap_or(0)
                );
                break;
            }
            "page.discard" => {
                what = "調査票のページではない".to_owned();
                break;
            }
            "review.resolve" if d.get("decision").is_some() => {
                what = display_value(field, &stored_value(&d["decision"]));
                break;
            }
            _ => {}
        }
    }
    Ok(json!({
        "by": t.resolved_by,
        "at": t.resolved_at.as_ref().map(jst),
        "what": what,
    }))
}

/// Turns a posted decision into a value for the field, checked against the question.
///
/// `pick` is `guess`, `none` (無回答), `unknown` (わからない), `opt:CODE`, `opts` (the checked
/// `opt` fields), `text` (the typed `text`), or `accepted` / `incoming` for conflicts.
pub(crate) fn decision(
    field: Option<&Field<'_>>,
    form: &Fields,
    payload: &serde_json::Value,
) -> std::result::Result<Option<Value>, String> {
    let pick = form.get("pick").unwrap_or("");
    let value = match pick {
        "guess" => match guess_of(payload) {
            Some(g) => g,
            None => return Err("この項目には機械の判定がありません。".into()),
        },
        "none" => None,
        "unknown" => Some(Value::Unknown),
        "accepted" | "incoming" => match payload.get(pick) {
            Some(side) => stored_value(&side["value"]),
            None => return Err("この項目は食い違いではありません。".into()),
        },
        "text" => {
            let Some(f) = field else {
                return Err("設問が定義にないため、値を入力できません。".into());
            };
            return values::parse_input(f, form.get("text").unwrap_or(""));
        }
        "opts" => {
            let Some(f) = field else {
                return Err("設問が定義にありません。".into());
            };
            let codes = values::in_option_order(f, form.all("opt"));
            if codes.is_empty() {
                None
            } else {
                Some(Value::Choices(codes))
            }
        }
        p if p.starts_with("opt:") => {
            let code = &p[4..];
            let Some(f) = field else {
                return Err("設問が定義にありません。".into());
            };
            match f.kind {
                FieldKind::YesNo => match Value::from_yes_no_code(code) {
                    Some(v) => Some(v),
                    None => return Err(format!("「{code}」は選べません。")),
                },
                FieldKind::Multiple => Some(Value::Choices(vec![code.to_owned()])),
                _ => Some(Value::Choice(code.to_owned())),
            }
        }
        _ => return Err("決定の内容がありません。".into()),
    };
    match (field, value) {
        (Some(f), Some(v)) => values::check(f, v).map(Some),
        (_, v) => Ok(v),
    }
}

fn lock_of(form: &Fields) -> Result<i32> {
    form.get("lock")
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| ReviewError::BadRequest("フォームに版番号（lock）がありません。".into()))
}

async fn touch_response<C: ConnectionTrait>(conn: &C, response_id: Option<i64>) -> Result<()> {
    // The first statement of the transaction is a write to the response: decisions on the same
    // response queue up here (row lock on PostgreSQL, the write lock on SQLite) instead of racing.
    if let Some(r) = response_id {
        responses::Entity::update_many()
            .col_expr(
                responses::Column::UpdatedAt,
                Expr::value(capsurvey_store::now()),
            )
            .filter(responses::Column::Id.eq(r))
            .exec(conn)
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

async fn conflict_response(app: &App, user: &CurrentUser, f: &Filter, id: i64) -> Result<Response> {
    let task = load_task(app, id).await?;
    let view = task_view(app, &task).await?;
    let done = &view["done"];
    let text = if done.is_null() {
        "この項目はあなたが開いた後に変更されました。再読み込みして最新の状態を確認してください。あなたの入力は保存されていません。".to_owned()
    } else {
        format!(
            "{} さんが {} に「{}」と決定しました。あなたの入力は保存されていません。",
            done["by"].as_str().unwrap_or("?"),
            done["at"].as_str().unwrap_or("?"),
            done["what"].as_str().unwrap_or("?"),
        )
    };
    render_queue(
        app,
        user,
        f,
        Some(task),
        Some(Notice {
            kind: "conflict",
            title: "他の担当者が先に処理しました".into(),
            text,
        }),
        StatusCode::CONFLICT,
    )
    .await
}

/// `POST /tasks/{id}/resolve`: a person's decision on a task (see [`decision`] for the form).
pub async fn resolve(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(f): Query<Filter>,
    body: Bytes,
) -> Result<Response> {
    let form = Fields::parse(&body);
    let lock = lock_of(&form)?;
    let task = load_task(&app, id).await?;
    if task.status != "open" || task.lock_version != lock {
        return conflict_response(&app, &user, &f, id).await;
    }
    if task.kind == "page" {
        return Err(ReviewError::BadRequest(
            "識別できないページは、施設・調査・ページを指定して処理してください。".into(),
        ));
    }
    let payload = payload_of(&task);
    let survey = match task.survey_version_id {
        Some(sv) => Some(app.definition(sv).await?),
        None => None,
    };
    let field = match (&survey, &task.field_key) {
        (Some(s), Some(k)) => find_field(s, k),
        _ => None,
    };
    let value = match decision(field.as_ref(), &form, &payload) {
        Ok(v) => v,
        Err(msg) => {
            return render_queue(
                &app,
                &user,
                &f,
                Some(task),
                Some(Notice {
                    kind: "error",
                    title: "入力を確認してください".into(),
                    text: msg,
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let db = app.store().db();
    let txn = db.begin().await.map_err(StoreError::from)?;
    touch_response(&txn, task.response_id).await?;
    match capsurvey_store::resolve_task(&txn, id, lock, value, &user.name).await {
        Ok(_) => {
            txn.commit().await.map_err(StoreError::from)?;
            tracing::info!(user = %user.name, task = id, "resolved");
            Ok(Redirect::to(&format!("/queue/next?after={id}&{}", f.query())).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            txn.rollback().await.ok();
            conflict_response(&app, &user, &f, id).await
        }
        Err(e) => {
            txn.rollback().await.ok();
            Err(e.into())
        }
    }
}

/// `POST /tasks/{id}/assign`: an unidentified page is facility × survey version × page number
/// (`pick=assign`, with `facility` code, `survey_version` id, `page`), or not a form page at all
/// (`pick=discard`).
pub async fn assign(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Query(f): Query<Filter>,
    body: Bytes,
) -> Result<Response> {
    let form = Fields::parse(&body);
    let lock = lock_of(&form)?;
    let task = load_task(&app, id).await?;
    if task.status != "open" || task.lock_version != lock {
        return conflict_response(&app, &user, &f, id).await;
    }
    let Some(page_id) = task.scanned_page_id else {
        return Err(ReviewError::BadRequest(
            "この項目にはページがありません。".into(),
        ));
    };
    let db = app.store().db();
    let discard = form.get("pick") == Some("discard");
    let mut target = None;
    if !discard {
        let code = values::normalize_input(form.get("facility").unwrap_or(""));
        let code = code.split_whitespace().next().unwrap_or("").to_owned();
        let facility = capsurvey_store::facility_by_code(db, &code).await?;
        let sv: Option<i64> = form.get("survey_version").and_then(|s| s.parse().ok());
        let page: Option<i32> = form
            .get("page")
            .and_then(|s| values::normalize_input(s).parse().ok())
            .filter(|p| (1..=99).contains(p));
        let problem = match (&facility, sv, page) {
            (None, _, _) => Some(format!("施設コード「{code}」の施設が名簿にありません。")),
            (_, None, _) => Some("調査を選んでください。".to_owned()),
            (_, _, None) => Some("ページ番号（1〜99）を入力してください。".to_owned()),
            _ => None,
        };
        if let Some(msg) = problem {
            return render_queue(
                &app,
                &user,
                &f,
                Some(task),
                Some(Notice {
                    kind: "error",
                    title: "入力を確認してください".into(),
                    text: msg,
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let (Some(facility), Some(sv), Some(page)) = (facility, sv, page) else {
            unreachable!("checked above")
        };
        app.definition(sv).await?;
        target = Some((facility.id, sv, page));
    }
    let txn = db.begin().await.map_err(StoreError::from)?;
    match capsurvey_store::resolve_task(&txn, id, lock, None, &user.name).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            txn.rollback().await.ok();
            return conflict_response(&app, &user, &f, id).await;
        }
        Err(e) => {
            txn.rollback().await.ok();
            return Err(e.into());
        }
    }
    match target {
        Some((facility, sv, page)) => {
            capsurvey_store::review::assign_page(&txn, page_id, sv, facility, page, &user.name)
                .await?;
            // The task now belongs to that survey (its queue filter and accuracy report).
            review_tasks::Entity::update_many()
                .col_expr(review_tasks::Column::SurveyVersionId, Expr::value(sv))
                .filter(review_tasks::Column::Id.eq(id))
                .exec(&txn)
                .await
                .map_err(StoreError::from)?;
        }
        None => {
            capsurvey_store::audit(
                &txn,
                &user.name,
                "page.discard",
                "scanned_pages",
                Some(page_id),
                json!({"task": id}),
            )
            .await?;
        }
    }
    txn.commit().await.map_err(StoreError::from)?;
    if target.is_some() {
        read_assigned_page(&app, page_id, &user.name).await;
    }
    Ok(Redirect::to(&format!("/queue/next?after={id}&{}", f.query())).into_response())
}

/// Reads a page's marks as soon as a person has said which page it is: its answers and review
/// items appear at once. If its original file is gone, the page stays assigned for
/// `capsurvey scan reread` and the reason is logged.
async fn read_assigned_page(app: &App, page_id: i64, person: &str) {
    let store = app.store();
    let page = match capsurvey_store::page_by_id(store.db(), page_id).await {
        Ok(Some(p)) if p.status == "assigned" => p,
        _ => return,
    };
    let opts = capsurvey_ingest::IngestOptions::new(person, app.config().data_dir.clone());
    let result = async {
        let catalog = capsurvey_ingest::Catalog::load(store.db()).await?;
        let mut summary = capsurvey_ingest::reread::RereadSummary::default();
        capsurvey_ingest::reread::reread_page(store, &catalog, &opts, page, &mut summary).await?;
        Ok::<_, capsurvey_ingest::IngestError>(summary)
    }
    .await;
    match result {
        Ok(summary) => {
            for p in summary.problems {
                tracing::warn!("assigned page {page_id} not read yet: {p}");
            }
        }
        Err(e) => tracing::warn!("assigned page {page_id} not read yet: {e}"),
    }
}
