//! Many reviewers at once, for a bounded time (issue 9, "Concurrency and access"): ~30 staff on
//! two review servers sharing one database (each server with its own connection pool, as two
//! processes would have) work through a few hundred tasks of the real kinds over HTTP on
//! loopback. Some tasks are opened and decided by several people at once on purpose.
//!
//! Checked: no 5xx and no transport error; every 409 is "another person was first"; every task
//! decided at most once, by the one person whose POST succeeded, with that person's value as the
//! one accepted answer; history and audit agree; nothing lost. Latency per request kind is
//! printed (`--nocapture`), never asserted.
//!
//! Size: `LOAD_REVIEWERS` (30), `LOAD_FACILITIES` (100, three tasks each), `LOAD_SECONDS`
//! (10 per backend). The figures in the README come from a release run on PostgreSQL:
//! `CAPSURVEY_TEST_POSTGRES=1 LOAD_REVIEWERS=60 LOAD_FACILITIES=300 LOAD_SECONDS=20 cargo test
//! --release -p capsurvey-review --test load -- --nocapture`.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capsurvey_store::entity::{answers, audit_log, review_tasks};
use capsurvey_store::sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use capsurvey_store::testing::each_backend;
use capsurvey_store::users::Role;
use capsurvey_store::*;
use capsurvey_survey::Value;
use common::*;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The task kinds made here, with the field each decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mark,
    WriteIn,
    Conflict,
}

impl Kind {
    fn field(self) -> &'static str {
        match self {
            Kind::Mark => "q08",
            Kind::WriteIn => "q04.full",
            Kind::Conflict => "q10",
        }
    }

    /// What reviewer `n` posts for this kind, and the value it must become. Values differ
    /// between reviewers, so the accepted value shows whose decision won.
    fn decision(self, n: usize) -> (Vec<(&'static str, String)>, Value) {
        let code = format!("{}", 1 + n % 4);
        match self {
            Kind::Mark => (vec![("pick", format!("opt:{code}"))], Value::Choice(code)),
            Kind::WriteIn => {
                let v = 10 + (n % 90) as i64;
                (
                    vec![("pick", "text".into()), ("text", v.to_string())],
                    Value::Int(v),
                )
            }
            // Neither side of the conflict: the person ticks what the page really says.
            Kind::Conflict => (
                vec![("pick", "opts".into()), ("opt", code.clone())],
                Value::Choices(vec![code]),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Task {
    response: i64,
    kind: Kind,
}

/// `FACILITIES` responses with a mark, a write-in and a conflict each, created in that order so
/// the queue mixes the kinds.
async fn make_tasks(conn: &DatabaseConnection, facilities: usize) -> BTreeMap<i64, Task> {
    let sv = register(conn).await;
    let mut tasks = BTreeMap::new();
    for i in 0..facilities {
        let f = facility(conn, &format!("133{i:07}"), &format!("負荷テスト歯科{i}")).await;
        let r = response_for(conn, sv, f.id, None).await.unwrap();
        let p = page(conn, &format!("load-{i}"), "identified", Some(sv)).await;
        let task = |kind| Task {
            response: r.id,
            kind,
        };
        tasks.insert(mark_task(conn, &r, p, 0).await, task(Kind::Mark));
        tasks.insert(write_in_task(conn, &r, p).await, task(Kind::WriteIn));
        // The fax said 1 and 2, the CSV only 1: a conflict task.
        let conflict = conflict_task(conn, &r, p, i as i64 + 2).await;
        tasks.insert(conflict, task(Kind::Conflict));
    }
    tasks
}

/// The request kinds whose latency is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Req {
    /// `GET /queue`: the oldest open task in full, the list beside it.
    Queue,
    /// `GET /queue/next?after=`: the redirect to the next open task.
    Next,
    /// `GET /tasks/{id}`: one task with its form.
    Open,
    /// `POST /tasks/{id}/resolve`.
    Resolve,
}

/// What one reviewer saw.
#[derive(Default)]
struct Log {
    latencies: Vec<(Req, Duration)>,
    /// (task, status, the conflict message was shown) of every decision posted.
    posts: Vec<(i64, u16, bool)>,
    /// Anything that is not a normal answer: 5xx, transport errors, unexpected statuses.
    errors: Vec<String>,
}

impl Log {
    /// Sends a request, timing it; a transport error is logged and gives `None`.
    async fn send(
        &mut self,
        kind: Req,
        rb: reqwest::RequestBuilder,
    ) -> Option<(u16, String, String)> {
        let started = Instant::now();
        let result = async {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_owned();
            Ok::<_, reqwest::Error>((status, location, r.text().await?))
        }
        .await;
        self.latencies.push((kind, started.elapsed()));
        match result {
            Ok(r) => {
                if r.0 >= 500 {
                    self.errors
                        .push(format!("{kind:?}: HTTP {}: {}", r.0, snippet(&r.2)));
                }
                Some(r)
            }
            Err(e) => {
                self.errors.push(format!("{kind:?}: transport error: {e}"));
                None
            }
        }
    }
}

fn snippet(body: &str) -> String {
    body.chars().take(300).collect()
}

/// The task a page's decision form is for.
fn form_task(html: &str) -> Option<i64> {
    let at = html.find("/resolve?")?;
    let start = html[..at].rfind("/tasks/")? + "/tasks/".len();
    html[start..at].parse().ok()
}

/// `/tasks/ID?…` → ID.
fn task_in_location(location: &str) -> Option<i64> {
    let rest = location.strip_prefix("/tasks/")?;
    rest.split(['?', '/']).next()?.parse().ok()
}

struct Reviewer {
    n: usize,
    client: reqwest::Client,
    csrf: String,
    url: String,
    /// Where in the queue this person starts (their "next" after this id).
    start_after: i64,
}

/// Takes tasks the way the review page offers them until the deadline or an empty queue: mostly
/// the "next" link from where the last decision was made, every fifth time the queue page (which
/// shows the oldest open task, so people using it at the same moment meet on the same task).
async fn work(r: Reviewer, tasks: Arc<BTreeMap<i64, Task>>, deadline: Instant) -> Log {
    let mut log = Log::default();
    let mut after = r.start_after;
    let mut step = 0usize;
    while Instant::now() < deadline {
        step += 1;
        let (id, html) = if step.is_multiple_of(5) {
            let Some((status, _, html)) = log
                .send(Req::Queue, r.client.get(format!("{}/queue", r.url)))
                .await
            else {
                continue;
            };
            if status != 200 {
                log.errors.push(format!("queue page: HTTP {status}"));
                continue;
            }
            match form_task(&html) {
                Some(id) => (id, html),
                None => break, // nothing open
            }
        } else {
            let Some((status, location, _)) = log
                .send(
                    Req::Next,
                    r.client.get(format!("{}/queue/next?after={after}", r.url)),
                )
                .await
            else {
                continue;
            };
            if status != 303 {
                log.errors.push(format!("next: HTTP {status}"));
                continue;
            }
            let Some(id) = task_in_location(&location) else {
                break; // back to the queue: nothing open
            };
            let Some((status, _, html)) = log
                .send(Req::Open, r.client.get(format!("{}{location}", r.url)))
                .await
            else {
                continue;
            };
            if status != 200 {
                log.errors.push(format!("task {id}: HTTP {status}"));
                continue;
            }
            (id, html)
        };
        after = id;
        // Decided by someone else between "next" and opening it: the page says so, no form.
        let Some(lock) = hidden(&html, "lock") else {
            continue;
        };
        let Some(task) = tasks.get(&id) else {
            log.errors
                .push(format!("task {id} was not made by this test"));
            continue;
        };
        let (form, _) = task.kind.decision(r.n);
        let mut fields = vec![("csrf", r.csrf.clone()), ("lock", lock)];
        fields.extend(form);
        let Some((status, _, body)) = log
            .send(
                Req::Resolve,
                r.client
                    .post(format!("{}/tasks/{id}/resolve?survey=&kind=", r.url))
                    .form(&fields),
            )
            .await
        else {
            continue;
        };
        let conflict = body.contains("他の担当者が先に処理しました");
        if status != 303 && status != 409 {
            log.errors
                .push(format!("resolve {id}: HTTP {status}: {}", snippet(&body)));
        }
        log.posts.push((id, status, conflict));
    }
    log
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn report(backend: &str, reviewers: usize, elapsed: Duration, logs: &[Log]) {
    let mut by_kind: BTreeMap<Req, Vec<Duration>> = BTreeMap::new();
    for (k, d) in logs.iter().flat_map(|l| &l.latencies) {
        by_kind.entry(*k).or_default().push(*d);
    }
    println!(
        "load [{backend}]: {reviewers} reviewers, {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  {:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s"
    );
    let mut total = 0;
    for (k, mut v) in by_kind {
        v.sort();
        total += v.len();
        println!(
            "  {:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8.1}",
            format!("{k:?}"),
            v.len(),
            ms(percentile(&v, 0.50)),
            ms(percentile(&v, 0.95)),
            ms(percentile(&v, 0.99)),
            ms(*v.last().unwrap()),
            v.len() as f64 / elapsed.as_secs_f64()
        );
    }
    println!(
        "  all      {total:>6} requests, {:.1} req/s",
        total as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_reviewers_at_once_lose_nothing() {
    let reviewers = env_or("LOAD_REVIEWERS", 30) as usize;
    let facilities = env_or("LOAD_FACILITIES", 100) as usize;
    let seconds = env_or("LOAD_SECONDS", 10);
    each_backend(|db| async move {
        let conn = db.store.db();
        let tasks = Arc::new(make_tasks(conn, facilities).await);
        let tasks_before = review_tasks::Entity::find().all(conn).await.unwrap();
        let answers_before = answers::Entity::find().all(conn).await.unwrap().len();
        assert_eq!(tasks_before.len(), tasks.len());

        // Accounts once: one hash for all (argon2 is the slow part), stored as `add_user` does.
        let hash = capsurvey_review::auth::hash_password(PASSWORD).unwrap();
        let names: Vec<String> = (0..reviewers).map(|n| format!("load{n}")).collect();
        for n in &names {
            capsurvey_store::users::create_user(conn, n, Role::Entry, &hash, "test")
                .await
                .unwrap();
        }
        // Two servers, each with its own pool on the same database.
        let data = data_dir();
        let second = Store::open(&db.spec).await.unwrap();
        let servers = [
            start(&db.store, data.path()).await,
            start(&second, data.path()).await,
        ];
        // Log in concurrently, outside the measured part.
        let ids: Vec<i64> = tasks.keys().copied().collect();
        // Reviewers n and n + groups start at the same place: they meet on the same tasks from
        // the first one on (the contested part); the others are spread over the queue.
        let groups = (reviewers * 2 / 3).max(1);
        let logins = names.iter().enumerate().map(|(n, name)| {
            let url = servers[n % 2].url.clone();
            let start_after = ids[(n % groups) * ids.len() / groups] - 1;
            let name = name.clone();
            async move {
                let client = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    // A request stuck on a lock is an error, not a hung test.
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                let resp = login(&client, &url, &name, PASSWORD).await;
                assert_eq!(resp.status(), 303, "login of {name}");
                let (_, html) = get(&client, &format!("{url}/queue")).await;
                let csrf = hidden(&html, "csrf").expect("pages carry the csrf token");
                Reviewer {
                    n,
                    client,
                    csrf,
                    url,
                    start_after,
                }
            }
        });
        let staff = futures_join_all(logins).await;

        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let handles: Vec<_> = staff
            .into_iter()
            .map(|r| tokio::spawn(work(r, tasks.clone(), deadline)))
            .collect();
        let mut logs = Vec::new();
        for h in handles {
            logs.push(h.await.unwrap());
        }
        let elapsed = started.elapsed();
        report(db.backend, reviewers, elapsed, &logs);

        // No error of any kind.
        let errors: Vec<&String> = logs.iter().flat_map(|l| &l.errors).collect();
        assert!(
            errors.is_empty(),
            "{}: {} errors, the first: {:?}",
            db.backend,
            errors.len(),
            &errors[..errors.len().min(5)]
        );

        // Per task: who won (the one 303), and every other decision posted got the 409 message.
        let mut winners: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut posts_per_task: HashMap<i64, usize> = HashMap::new();
        let mut refused = 0;
        for (n, log) in logs.iter().enumerate() {
            for &(task, status, conflict) in &log.posts {
                *posts_per_task.entry(task).or_default() += 1;
                match status {
                    303 => winners.entry(task).or_default().push(n),
                    409 => {
                        assert!(
                            conflict,
                            "{}: a 409 on task {task} says who was first",
                            db.backend
                        );
                        refused += 1;
                    }
                    other => unreachable!("logged as an error: {other}"),
                }
            }
        }
        let contested = posts_per_task.values().filter(|&&n| n > 1).count();
        println!(
            "  {} tasks, {} decided ({:.1}/s), {contested} decided by more than one person at once, {refused} refused with the conflict message",
            tasks.len(),
            winners.len(),
            winners.len() as f64 / elapsed.as_secs_f64()
        );
        for (task, w) in &winners {
            assert_eq!(
                w.len(),
                1,
                "{}: task {task} accepted from {w:?}",
                db.backend
            );
        }
        assert!(
            contested > 0 && refused > 0,
            "{}: the load must contest some tasks",
            db.backend
        );
        assert!(!winners.is_empty(), "{}: nothing decided", db.backend);

        // Nothing lost, nothing added: the same tasks; each decided one is done once by its
        // winner, the others untouched.
        let after: BTreeMap<i64, review_tasks::Model> = review_tasks::Entity::find()
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        assert_eq!(
            after.keys().copied().collect::<Vec<_>>(),
            ids,
            "{}: the same tasks after the load",
            db.backend
        );
        let resolves: Vec<audit_log::Model> = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("review.resolve"))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(
            resolves.len(),
            winners.len(),
            "{}: one audit row per decision",
            db.backend
        );
        let all_answers = answers::Entity::find().all(conn).await.unwrap();
        assert_eq!(
            all_answers.len(),
            answers_before + winners.len(),
            "{}: one new answer per decision",
            db.backend
        );
        for (id, task) in tasks.iter() {
            let t = &after[id];
            let history: Vec<&answers::Model> = all_answers
                .iter()
                .filter(|a| a.response_id == task.response && a.field_key == task.kind.field())
                .collect();
            let people: Vec<_> = history.iter().filter(|a| a.source_kind == "person").collect();
            let Some(w) = winners.get(id) else {
                assert!(
                    t.status == "open" && t.lock_version == 0 && t.resolved_by.is_none(),
                    "{}: task {id} undecided by HTTP but {t:?}",
                    db.backend
                );
                assert!(people.is_empty(), "{}: task {id}", db.backend);
                continue;
            };
            let n = w[0];
            let name = &names[n];
            assert!(
                t.status == "done" && t.lock_version == 1,
                "{}: task {id}: {t:?}",
                db.backend
            );
            assert_eq!(t.resolved_by.as_ref(), Some(name), "{}: task {id}", db.backend);
            let (_, value) = task.kind.decision(n);
            // Exactly one accepted answer: the winner's, and the only person answer.
            let accepted: Vec<_> = history.iter().filter(|a| a.status == "accepted").collect();
            assert_eq!(accepted.len(), 1, "{}: task {id}: {history:?}", db.backend);
            assert_eq!(people.len(), 1, "{}: task {id}: {history:?}", db.backend);
            let a = accepted[0];
            assert_eq!(a.id, people[0].id, "{}: task {id}", db.backend);
            assert_eq!(a.person.as_ref(), Some(name), "{}: task {id}", db.backend);
            assert_eq!(
                decode_value(&a.value).unwrap(),
                Some(value.clone()),
                "{}: task {id} keeps {name}'s value",
                db.backend
            );
            // The machine's reading (and for a conflict, both sides) stay as history under it.
            for old in history.iter().filter(|o| o.id != a.id) {
                assert!(
                    old.status == "superseded" && old.superseded_by == Some(a.id),
                    "{}: task {id}: {old:?}",
                    db.backend
                );
            }
            let expected_len = if task.kind == Kind::Conflict { 3 } else { 2 };
            assert_eq!(history.len(), expected_len, "{}: task {id}", db.backend);
            let audit: Vec<_> = resolves
                .iter()
                .filter(|r| r.entity_id == Some(*id))
                .collect();
            assert_eq!(audit.len(), 1, "{}: audit of task {id}", db.backend);
            assert_eq!(&audit[0].actor, name, "{}: audit of task {id}", db.backend);
            let detail: serde_json::Value = serde_json::from_str(&audit[0].detail).unwrap();
            assert_eq!(
                detail["decision"].as_str(),
                encode_value(&Some(value)).as_deref(),
                "{}: audit of task {id}",
                db.backend
            );
        }
        second.db().clone().close().await.ok();
        db
    })
    .await;
}

/// Runs futures concurrently and collects their outputs in order (no `futures` dependency).
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
