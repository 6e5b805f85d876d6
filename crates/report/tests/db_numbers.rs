//! The handout's numbers against an independent recomputation straight from the tables.
//!
//! The recomputation reads answers, responses, mailings and facilities with plain SQL and counts
//! with plain loops, with the skip rules of the home-care clinic survey written out by hand (from
//! the printed notes, 「「2」「3」と答えた方は問9へ」), so that it shares nothing with the aggregation
//! code but the database. Runs on SQLite, and on PostgreSQL with CAPSURVEY_TEST_POSTGRES=1.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use capsurvey_report::testing::{seed_store, shipped_survey};
use capsurvey_report::{Part, Renderer, Report, ReportOptions, aggregate, load_input};
use capsurvey_store::testing::each_backend;
use capsurvey_store::{Source, SourceKind, put_answer, response_for};
use common::{cell_count, row_cell, row_cells};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value as Json;

const N: usize = 160;

/// One facility's stored rows, as the recomputation sees them.
#[derive(Default, Debug)]
struct Fac {
    area: String,
    mailed: bool,
    accepted: HashMap<String, Json>,
    review: HashSet<String>,
}

impl Fac {
    /// Accepted value of a field unless it is under review: `None` for missing, blank or review.
    fn settled(&self, key: &str) -> Option<&Json> {
        if self.review.contains(key) {
            return None;
        }
        self.accepted.get(key).filter(|v| !v.is_null())
    }
    fn choice(&self, key: &str) -> Option<&str> {
        self.settled(key)
            .filter(|v| v["t"] == "choice")
            .and_then(|v| v["v"].as_str())
    }
    fn is_respondent(&self) -> bool {
        self.accepted.values().any(|v| !v.is_null())
    }
}

async fn stored(conn: &impl ConnectionTrait, version_id: i64) -> BTreeMap<String, Fac> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT f.code AS code, COALESCE(f.area_override, f.area, '地区未設定') AS area,
                        (SELECT COUNT(*) FROM mailings m WHERE m.facility_id = f.id AND m.survey_version_id = {version_id}) AS mailed
                 FROM facilities f
                 WHERE f.id IN (SELECT facility_id FROM mailings WHERE survey_version_id = {version_id})
                    OR f.id IN (SELECT facility_id FROM responses WHERE survey_version_id = {version_id})"
            ),
        ))
        .await
        .unwrap();
    let mut out: BTreeMap<String, Fac> = BTreeMap::new();
    for r in rows {
        let code: String = r.try_get("", "code").unwrap();
        let mailed: i64 = r.try_get("", "mailed").unwrap();
        out.insert(
            code,
            Fac {
                area: r.try_get("", "area").unwrap(),
                mailed: mailed > 0,
                ..Fac::default()
            },
        );
    }
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT f.code AS code, a.field_key AS field_key, a.value AS value, a.status AS status
                 FROM answers a JOIN responses r ON r.id = a.response_id JOIN facilities f ON f.id = r.facility_id
                 WHERE r.survey_version_id = {version_id} ORDER BY a.id"
            ),
        ))
        .await
        .unwrap();
    for r in rows {
        let code: String = r.try_get("", "code").unwrap();
        let key: String = r.try_get("", "field_key").unwrap();
        let value: Option<String> = r.try_get("", "value").unwrap();
        let status: String = r.try_get("", "status").unwrap();
        let fac = out.get_mut(&code).unwrap();
        match status.as_str() {
            "accepted" => {
                let v = value.map_or(Json::Null, |s| serde_json::from_str(&s).unwrap());
                fac.accepted.insert(key, v);
            }
            "review" => {
                fac.review.insert(key);
            }
            _ => {}
        }
    }
    out
}

/// Half-up percentage to one decimal, computed another way than the report does.
fn pct(count: u64, n: u64) -> String {
    if n == 0 {
        return "-".into();
    }
    let tenths = (count * 10_000 / n + 5) / 10;
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn part<'r>(r: &'r Report, key: &str) -> &'r Part {
    r.sections
        .iter()
        .flat_map(|s| &s.questions)
        .flat_map(|q| &q.parts)
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no part {key}"))
}

/// Counts of a single-choice field over respondents to whom it applies.
struct ChoiceCount {
    n: u64,
    review: u64,
    skipped: u64,
    per: BTreeMap<String, u64>,
    blank: u64,
    unknown: u64,
}

fn count_choice(facs: &[&Fac], key: &str, applies: impl Fn(&Fac) -> bool) -> ChoiceCount {
    let mut c = ChoiceCount {
        n: 0,
        review: 0,
        skipped: 0,
        per: BTreeMap::new(),
        blank: 0,
        unknown: 0,
    };
    for f in facs {
        if !applies(f) {
            c.skipped += 1;
            continue;
        }
        if f.review.contains(key) {
            c.review += 1;
            continue;
        }
        c.n += 1;
        match f.accepted.get(key) {
            None | Some(Json::Null) => c.blank += 1,
            Some(v) if v["t"] == "unknown" => c.unknown += 1,
            Some(v) if v["t"] == "choice" => {
                *c.per
                    .entry(v["v"].as_str().unwrap().to_owned())
                    .or_default() += 1
            }
            Some(v) if v["t"] == "choices" => {
                let codes = v["v"].as_array().unwrap();
                if codes.is_empty() {
                    c.blank += 1;
                }
                for code in codes {
                    *c.per.entry(code.as_str().unwrap().to_owned()).or_default() += 1;
                }
            }
            Some(v) if v["t"] == "bool" => {
                let code = if v["v"].as_bool().unwrap() {
                    "yes"
                } else {
                    "no"
                };
                *c.per.entry(code.to_owned()).or_default() += 1;
            }
            Some(v) => panic!("unexpected value {v} for {key}"),
        }
    }
    c
}

fn check_choice(report: &Report, html: &str, key: &str, c: &ChoiceCount) {
    let p = part(report, key);
    assert_eq!(
        (p.n, p.under_review, p.not_applicable),
        (c.n, c.review, c.skipped),
        "{key}: n, 確認中, 非該当"
    );
    let rows = &p.choice.as_ref().unwrap().rows;
    for r in rows {
        let expected = match r.kind.as_str() {
            "option" => c.per.get(&r.code).copied().unwrap_or(0),
            "unknown" => c.unknown,
            "none" => c.blank,
            k => panic!("{k}"),
        };
        assert_eq!(r.count, expected, "{key} option {}", r.code);
        assert_eq!(r.pct_text, pct(expected, c.n), "{key} option {}", r.code);
        // The handout prints the same numbers.
        let id = format!("{}-{}", p.anchor, r.code);
        assert_eq!(
            [row_cell(html, &id, "c"), row_cell(html, &id, "p")],
            [expected.to_string(), format!("{}%", pct(expected, c.n))],
            "{key} row {} in the HTML",
            r.code
        );
    }
    assert!(html.contains(&format!("n={}", c.n)));
}

#[tokio::test]
async fn handout_numbers_equal_a_recomputation_from_the_answers_table() {
    each_backend(|db| async move {
        let parsed = shipped_survey("homecare-clinic");
        let sv = seed_store(db.store.db(), &parsed, N, 2024).await.unwrap();
        let conn = db.store.db();
        let input = load_input(conn, "homecare-clinic", None, &[])
            .await
            .unwrap();
        let report = aggregate(
            &input,
            &ReportOptions::new(chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap()),
        );
        let html = Renderer::new(None).unwrap().render(&report).unwrap();

        let all = stored(conn, sv.id).await;
        let resp: Vec<&Fac> = all.values().filter(|f| f.is_respondent()).collect();
        let backend = db.backend;

        // 回収状況.
        let sent = all.values().filter(|f| f.mailed).count() as u64;
        assert_eq!(report.collection.total.sent, sent, "{backend}");
        assert_eq!(report.collection.total.answered, resp.len() as u64);
        assert_eq!(
            report.collection.total.rate_text,
            pct(resp.len() as u64, sent)
        );
        for row in &report.collection.by_area {
            let sent = all
                .values()
                .filter(|f| f.area == row.label && f.mailed)
                .count() as u64;
            let answered = resp.iter().filter(|f| f.area == row.label).count() as u64;
            assert_eq!(
                (row.sent, row.answered),
                (sent, answered),
                "area {}",
                row.label
            );
        }
        assert!(
            resp.len() > 60 && report.notes.under_review_answers > 0,
            "the seed should be varied"
        );

        // 問7: required single choice, applies to everyone.
        let q07 = count_choice(&resp, "q07", |_| true);
        check_choice(&report, &html, "q07", &q07);

        // 問4 (reasons, multiple): only for 問3 = 4 or 問3 unsettled (「1」「2」「3」は問5へ).
        let q03_skips = |f: &Fac| matches!(f.choice("q03"), Some("1" | "2" | "3"));
        let q04 = count_choice(&resp, "q04", |f| !q03_skips(f));
        check_choice(&report, &html, "q04", &q04);
        let ranking = report.reasons.iter().find(|r| r.number == "4").unwrap();
        assert_eq!(ranking.n, q04.n);
        assert_eq!(ranking.rows[0].row.count, *q04.per.values().max().unwrap());

        // 問14 (yes/no), 問22-1, and 問30-1 (listing consent).
        check_choice(&report, &html, "q14", &count_choice(&resp, "q14", |_| true));
        check_choice(
            &report,
            &html,
            "q30a",
            &count_choice(&resp, "q30a", |_| true),
        );

        // 問8 居宅 (count): only when 問7 is not 「2」「3」.
        let q07_skips = |f: &Fac| matches!(f.choice("q07"), Some("2" | "3"));
        let mut values: Vec<i64> = Vec::new();
        let (mut n, mut review, mut unknown, mut blank, mut skipped) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        for f in &resp {
            if q07_skips(f) {
                skipped += 1;
                continue;
            }
            if f.review.contains("q08.home") {
                review += 1;
                continue;
            }
            n += 1;
            match f.accepted.get("q08.home") {
                None | Some(Json::Null) => blank += 1,
                Some(v) if v["t"] == "unknown" => unknown += 1,
                Some(v) => values.push(v["v"].as_i64().unwrap()),
            }
        }
        let p = part(&report, "q08.home");
        assert_eq!(
            (p.n, p.under_review, p.not_applicable),
            (n, review, skipped)
        );
        let s = p.number.as_ref().unwrap();
        assert_eq!(
            (s.answered, s.unknown, s.no_answer),
            (values.len() as u64, unknown, blank)
        );
        let sum: i64 = values.iter().sum();
        assert_eq!(s.sum_text.replace(',', ""), sum.to_string());
        let m = values.len() as i64;
        let mean_tenths = (sum * 10 + m / 2) / m;
        assert_eq!(
            s.mean_text,
            format!("{}.{}", mean_tenths / 10, mean_tenths % 10)
        );
        values.sort();
        let median2 = if m % 2 == 1 {
            2 * values[values.len() / 2]
        } else {
            values[values.len() / 2 - 1] + values[values.len() / 2]
        };
        // median2 is twice the median: .0 or .5.
        assert_eq!(
            s.median_text,
            format!("{}.{}", median2 / 2, if median2 % 2 == 1 { 5 } else { 0 })
        );
        let bins = [0, 1, 5, 10, 20, 50];
        for (i, lo) in bins.iter().enumerate() {
            let hi = bins.get(i + 1).copied().unwrap_or(i64::MAX);
            let count = values.iter().filter(|&&v| v >= *lo && v < hi).count() as u64;
            assert_eq!(s.bins[i].count, count, "bin {i}");
            assert_eq!(
                cell_count(&html, &format!("{}-b{i}", p.anchor)),
                count.to_string(),
                "bin {i} in the HTML"
            );
        }
        let stats = row_cells(&html, &format!("{}-stats", p.anchor));
        assert_eq!(stats[1], n.to_string());
        assert_eq!(stats[3].replace(',', ""), sum.to_string());

        // 問15 自宅 (count): only when 問14 is not 「対応していない」.
        let q14_no = |f: &Fac| {
            f.settled("q14")
                .is_some_and(|v| v["t"] == "bool" && v["v"] == false)
        };
        let applies: Vec<&Fac> = resp.iter().copied().filter(|f| !q14_no(f)).collect();
        let p = part(&report, "q15.home");
        assert_eq!(p.not_applicable, (resp.len() - applies.len()) as u64);
        assert_eq!(
            p.n,
            applies
                .iter()
                .filter(|f| !f.review.contains("q15.home"))
                .count() as u64
        );

        // Cross-tab of 問11 by area.
        let x = report
            .crosstabs
            .by_area
            .iter()
            .find(|x| x.anchor == "x-area-q11")
            .unwrap();
        for row in x.rows.iter().filter(|r| !r.total) {
            let in_area: Vec<&Fac> = resp
                .iter()
                .copied()
                .filter(|f| f.area == row.label)
                .collect();
            let c = count_choice(&in_area, "q11", |_| true);
            assert_eq!(row.n, c.n, "q11 area {}", row.label);
            for (i, code) in ["1", "2", "3"].iter().enumerate() {
                assert_eq!(
                    row.cells[i].count,
                    c.per.get(*code).copied().unwrap_or(0),
                    "q11 area {} option {code}",
                    row.label
                );
            }
        }

        // Capabilities: 24時間往診 is 問11 「1」「2」; the list holds facilities that agreed to be listed.
        let listed: Vec<&Fac> = resp
            .iter()
            .copied()
            .filter(|f| f.choice("q30a") == Some("1"))
            .collect();
        assert_eq!(report.capabilities.listed, listed.len() as u64);
        for (name, key, codes) in [
            ("24時間往診", "q11", &["1", "2"][..]),
            ("訪問診療", "q07", &["1"][..]),
        ] {
            let shows = |f: &Fac| f.choice(key).is_some_and(|c| codes.contains(&c));
            let with = resp.iter().filter(|f| shows(f)).count();
            let col = report
                .capabilities
                .columns
                .iter()
                .position(|c| c.name == name)
                .unwrap();
            assert_eq!(
                report.capabilities.columns[col].respondents, with as u64,
                "{name}"
            );
            assert_eq!(
                report.capabilities.lists[col].rows.len(),
                listed.iter().filter(|f| shows(f)).count(),
                "{name} list"
            );
            assert_eq!(
                row_cell(&html, &format!("cap-{col}"), "c"),
                with.to_string()
            );
        }
        db
    })
    .await;
}

#[tokio::test]
async fn answers_under_review_are_left_out_and_reported() {
    each_backend(|db| async move {
        let parsed = shipped_survey("homecare-clinic");
        let sv = seed_store(db.store.db(), &parsed, 80, 99).await.unwrap();
        let conn = db.store.db();
        let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap();
        let before = aggregate(
            &load_input(conn, "homecare-clinic", None, &[])
                .await
                .unwrap(),
            &ReportOptions::new(date),
        );

        // A facility whose 問11 was accepted as 「1」 from CSV; a FAX now says 「3」.
        let all = stored(conn, sv.id).await;
        let (code, _) = all
            .iter()
            .find(|(_, f)| f.is_respondent() && f.choice("q11") == Some("1"))
            .expect("a facility with 問11 = 1");
        let fac = capsurvey_store::facility_by_code(conn, code)
            .await
            .unwrap()
            .unwrap();
        let response = response_for(conn, sv.id, fac.id, None).await.unwrap();
        let fax = Source {
            kind: SourceKind::Scan,
            source_ref: "late.tif p2".into(),
            scanned_page_id: None,
            imported_file_id: None,
            row_number: None,
            person: None,
        };
        let put = put_answer(
            conn,
            &response,
            "q11",
            Some(capsurvey_survey::Value::Choice("3".into())),
            Some(0.97),
            &fax,
            "test",
        )
        .await
        .unwrap();
        assert!(matches!(put, capsurvey_store::Put::Conflict { .. }));

        let after = aggregate(
            &load_input(conn, "homecare-clinic", None, &[])
                .await
                .unwrap(),
            &ReportOptions::new(date),
        );
        let (b, a) = (part(&before, "q11"), part(&after, "q11"));
        assert_eq!(a.n, b.n - 1);
        assert_eq!(a.under_review, b.under_review + 1);
        let count = |p: &Part, code: &str| {
            p.choice
                .as_ref()
                .unwrap()
                .rows
                .iter()
                .find(|r| r.code == code)
                .unwrap()
                .count
        };
        assert_eq!(
            count(a, "1"),
            count(b, "1") - 1,
            "the accepted 「1」 is no longer counted"
        );
        assert_eq!(count(a, "3"), count(b, "3"), "nor is the FAX's 「3」");
        let col = after
            .capabilities
            .columns
            .iter()
            .position(|c| c.name == "24時間往診")
            .unwrap();
        assert_eq!(
            after.capabilities.columns[col].respondents,
            before.capabilities.columns[col].respondents - 1
        );
        assert_eq!(
            after.notes.under_review_answers,
            before.notes.under_review_answers + 1
        );

        let html = Renderer::new(None).unwrap().render(&after).unwrap();
        let block = &html[html.find("id=\"q-q11\"").unwrap()..];
        let block = &block[..block.find("</article>").unwrap()];
        assert!(
            block.contains(&format!("確認中 {}件（集計に含まない）", a.under_review)),
            "{block}"
        );
        assert!(html.contains("確認中の回答は延べ"));
        db
    })
    .await;
}

#[tokio::test]
async fn small_cells_are_suppressed_on_request() {
    each_backend(|db| async move {
        let parsed = shipped_survey("dental");
        seed_store(db.store.db(), &parsed, 120, 5).await.unwrap();
        let conn = db.store.db();
        let input = load_input(conn, "dental", None, &[]).await.unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap();
        let mut opts = ReportOptions::new(date);
        opts.min_cell = 5;
        let report = aggregate(&input, &opts);
        let plain = aggregate(&input, &ReportOptions::new(date));

        let mut rows = Vec::new();
        for p in report
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .flat_map(|q| &q.parts)
        {
            if let Some(c) = &p.choice {
                rows.extend(c.rows.iter());
            }
            if let Some(s) = &p.number {
                rows.extend(s.bins.iter());
                if s.answered > 0 && s.answered < 5 {
                    assert_eq!(s.mean_text, "*", "{}", p.key);
                }
            }
        }
        for x in report
            .crosstabs
            .by_area
            .iter()
            .chain(&report.crosstabs.by_filing)
        {
            for r in &x.rows {
                rows.extend(r.cells.iter());
            }
        }
        for r in report.capabilities.by_area.iter().flat_map(|x| &x.rows) {
            rows.extend(r.cells.iter());
        }
        let hidden = rows.iter().filter(|r| r.suppressed).count();
        assert!(hidden > 0);
        for r in &rows {
            if r.count > 0 && r.count < 5 {
                assert!(
                    r.suppressed
                        && r.count_text == "*"
                        && r.pct_text == "*"
                        && r.pct_tenths.is_none(),
                    "{r:?}"
                );
            }
            if !r.suppressed {
                assert_eq!(r.count_text, r.count.to_string());
            }
        }
        assert_eq!(report.notes.suppressed_cells as usize, hidden);
        assert_eq!(plain.notes.suppressed_cells, 0);

        // Single-choice tables never show exactly one hidden cell (it could be worked out from n).
        for p in report
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .flat_map(|q| &q.parts)
        {
            if let Some(c) = p.choice.as_ref().filter(|c| !c.multiple) {
                assert_ne!(
                    c.rows.iter().filter(|r| r.suppressed).count(),
                    1,
                    "{}",
                    p.key
                );
            }
        }

        let html = Renderer::new(None).unwrap().render(&report).unwrap();
        assert!(html.contains("件数が4件以下（1件以上）のセルは「*」"));
        // Every hidden option row prints 「*」 in both number cells.
        for p in report
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .flat_map(|q| &q.parts)
        {
            for r in p
                .choice
                .iter()
                .flat_map(|c| &c.rows)
                .filter(|r| r.suppressed)
            {
                let id = format!("{}-{}", p.anchor, r.code);
                assert_eq!(
                    [row_cell(&html, &id, "c"), row_cell(&html, &id, "p")],
                    ["*", "*"],
                    "{} {}",
                    p.key,
                    r.code
                );
            }
        }
        db
    })
    .await;
}
