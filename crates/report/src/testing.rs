//! Deterministic synthetic facilities and answers, for tests and the benchmark.
//!
//! The same generator feeds an in-memory [`ReportInput`] ([`synthetic_input`]) and a database
//! ([`seed_store`], through the store's own answer rules), so the benchmark and the database
//! tests see the same kind of data: several areas, skip logic followed (and now and then
//! ignored), blanks stored and missing, 「−」, answers under review and conflicting channels.

use std::collections::{HashMap, HashSet};

use capsurvey_store::entity::{facilities, mailings, survey_versions};
use capsurvey_store::{
    NewTask, Source, SourceKind, TaskKind, put_answer, put_for_review, register_survey,
    response_for,
};
use capsurvey_survey::{
    FacilityType, Parsed, Prefill, Question, QuestionKind, Survey, Value, WriteIn,
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set, TransactionTrait};

use crate::model::{FacilityRecord, ReportInput};

/// The five areas (地域) of Setagaya, used for synthetic facilities.
pub const AREAS: [&str; 5] = ["世田谷", "北沢", "玉川", "砧", "烏山"];

/// A shipped survey definition, parsed.
pub fn shipped_survey(id: &str) -> Parsed {
    let text = match id {
        "dental" => include_str!("../../../surveys/dental.toml"),
        "homecare-clinic" => include_str!("../../../surveys/homecare-clinic.toml"),
        "visiting-nurse" => include_str!("../../../surveys/visiting-nurse.toml"),
        _ => panic!("no shipped survey `{id}`"),
    };
    capsurvey_survey::parse_survey(&format!("{id}.toml"), text).expect("shipped surveys parse")
}

/// splitmix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// One element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How an answer is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    /// Accepted.
    No,
    /// Only a machine reading under review (no accepted answer).
    Pending,
    /// Accepted from CSV, then a different value from a FAX: the second is under review.
    Conflict(Option<Value>),
}

/// One synthetic answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthAnswer {
    /// Field key.
    pub key: String,
    /// Value; `None` is a stored blank.
    pub value: Option<Value>,
    /// Review state.
    pub review: Review,
}

/// One synthetic facility with its answers.
#[derive(Debug, Clone)]
pub struct SynthFacility {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Reading.
    pub name_kana: String,
    /// Facility type id.
    pub facility_type: String,
    /// Mapped area.
    pub area: Option<String>,
    /// Hand-set area.
    pub area_override: Option<String>,
    /// Roster filings.
    pub filings: Vec<String>,
    /// Address.
    pub address: String,
    /// Telephone.
    pub phone: String,
    /// FAX.
    pub fax: Option<String>,
    /// Sent a form.
    pub mailed: bool,
    /// Has a response record.
    pub responds: bool,
    /// Answers (empty for a blank reply).
    pub answers: Vec<SynthAnswer>,
}

const PREFIX: [(&str, &str); 20] = [
    ("さくら", "サクラ"),
    ("みどり", "ミドリ"),
    ("ひかり", "ヒカリ"),
    ("あおば", "アオバ"),
    ("つばさ", "ツバサ"),
    ("やまびこ", "ヤマビコ"),
    ("わかば", "ワカバ"),
    ("ひまわり", "ヒマワリ"),
    ("すみれ", "スミレ"),
    ("かえで", "カエデ"),
    ("若林", "ワカバヤシ"),
    ("太子堂", "タイシドウ"),
    ("三軒茶屋", "サンゲンヂャヤ"),
    ("経堂", "キョウドウ"),
    ("成城", "セイジョウ"),
    ("用賀", "ヨウガ"),
    ("下北沢", "シモキタザワ"),
    ("千歳", "チトセ"),
    ("二子玉川", "フタコタマガワ"),
    ("烏山", "カラスヤマ"),
];
const MIDDLE: [(&str, &str); 10] = [
    ("", ""),
    ("駅前", "エキマエ"),
    ("中央", "チュウオウ"),
    ("公園前", "コウエンマエ"),
    ("南口", "ミナミグチ"),
    ("北口", "キタグチ"),
    ("通り", "ドオリ"),
    ("ファミリー", "ファミリー"),
    ("本町", "ホンチョウ"),
    ("ひがし", "ヒガシ"),
];
const TOWNS: [&str; 12] = [
    "太子堂",
    "若林",
    "三軒茶屋",
    "北沢",
    "代沢",
    "玉川",
    "用賀",
    "奥沢",
    "成城",
    "砧",
    "南烏山",
    "給田",
];
const FAMILY: [&str; 12] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
];
const COMMENTS: [&str; 12] = [
    "多職種連携の研修会を増やしてほしい。",
    "ケアマネジャーとの情報共有の方法を統一してほしい。",
    "夜間の対応を一つの医療機関で担うのは難しく、地域での輪番制を検討してほしい。",
    "訪問先の駐車スペースの確保に苦労している。駐車許可の手続きを簡単にしてほしい。",
    "在宅療養資源マップは大変役に立っている。毎年更新してほしい。",
    "後方支援病院との連携の窓口が分かりにくい。",
    "医療的ケア児の受入について、相談できる窓口がほしい。",
    "人員が足りず、新規の依頼を断らざるを得ないことがある。",
    "ICTを使った連絡ツールの導入を支援してほしい。",
    "看取りの経験が少ないため、症例検討会に参加したい。",
    "特になし。",
    "報酬に見合わない移動時間がかかる。",
];
const SHORT: [&str; 8] = [
    "区内全域",
    "半径4km以内",
    "6歳以上",
    "0歳から",
    "8時30分から17時30分まで",
    "9時から18時まで",
    "要相談",
    "世田谷・北沢地域",
];

const WRITE_INS: [&str; 8] = [
    "要相談",
    "法人の方針による",
    "地域包括支援センター",
    "リハビリテーション科",
    "近隣の地区のみ",
    "医師会の調整による",
    "家族の同意が得られた場合",
    "人員に余裕がある場合",
];

fn fullwidth(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c))
        .collect()
}

fn roster_filings(t: FacilityType, rng: &mut Rng) -> Vec<String> {
    let codes: &[&str] = match t {
        FacilityType::Dental => &["歯援診1", "歯援診2", "口管強"],
        FacilityType::HomecareClinic => &["支援診1", "支援診2", "支援診3", "支援病1"],
        FacilityType::VisitingNurse => &["機能強化1", "機能強化2", "24時間対応"],
    };
    codes
        .iter()
        .filter(|_| rng.chance(0.25))
        .map(|s| s.to_string())
        .collect()
}

fn gen_value(
    q: &Question,
    part: Option<&str>,
    fac: &SynthFacility,
    i: usize,
    rng: &mut Rng,
) -> Value {
    match q.kind {
        QuestionKind::Single => {
            // Earlier options are more common: weights 1, 1/2, 1/3 …
            let total: f64 = (1..=q.options.len()).map(|k| 1.0 / k as f64).sum();
            let mut x = rng.f64() * total;
            for (k, o) in q.options.iter().enumerate() {
                x -= 1.0 / (k + 1) as f64;
                if x < 0.0 {
                    return Value::Choice(o.code.clone());
                }
            }
            Value::Choice(q.options[0].code.clone())
        }
        QuestionKind::Multiple => {
            let mut chosen: Vec<String> = q
                .options
                .iter()
                .filter(|o| !o.exclusive && rng.chance(0.3))
                .map(|o| o.code.clone())
                .collect();
            if chosen.is_empty() {
                match q.options.iter().find(|o| o.exclusive) {
                    Some(o) if rng.chance(0.8) => chosen.push(o.code.clone()),
                    _ => {
                        let plain: Vec<&String> = q
                            .options
                            .iter()
                            .filter(|o| !o.exclusive)
                            .map(|o| &o.code)
                            .collect();
                        chosen.push((*rng.pick(&plain)).clone());
                    }
                }
            }
            Value::Choices(chosen)
        }
        QuestionKind::YesNo => Value::Bool(rng.chance(0.6)),
        QuestionKind::Count => {
            let max = q.max.unwrap_or(99.0).min(60.0);
            if rng.chance(0.2) {
                Value::Int(0)
            } else {
                Value::Int(
                    ((rng.f64().powi(3) * max).round() as i64 + 1)
                        .min(q.max.unwrap_or(99.0) as i64),
                )
            }
        }
        QuestionKind::Decimal => {
            let d = q.decimals.unwrap_or(1) as i32;
            let scale = 10f64.powi(d);
            let max = q.max.unwrap_or(99.9).min(20.0);
            Value::Decimal((rng.f64().powi(2) * max * scale).round() / scale)
        }
        QuestionKind::ShortText => {
            match (q.prefill, part) {
                (Some(Prefill::Name), _) => Value::Text(fac.name.clone()),
                (Some(Prefill::Address), _) => Value::Text(fac.address.clone()),
                (Some(Prefill::Phone), _) => Value::Text(if rng.chance(0.1) {
                    format!("03-{:04}-{:04}", rng.below(10000), rng.below(10000))
                } else {
                    fac.phone.clone()
                }),
                (Some(Prefill::Fax), _) => Value::Text(fac.fax.clone().unwrap_or_else(|| {
                    format!("03-{:04}-{:04}", rng.below(10000), rng.below(10000))
                })),
                (Some(Prefill::Code), _) => Value::Text(fac.code.clone()),
                (None, Some("title")) => Value::Text(
                    rng.pick(&["院長", "事務長", "管理者", "看護師長"])
                        .to_string(),
                ),
                (None, Some("name")) => Value::Text(format!(
                    "{} {}",
                    rng.pick(&FAMILY),
                    rng.pick(&["花子", "太郎", "恵", "誠"])
                )),
                (None, Some("phone")) => Value::Text(fac.phone.clone()),
                (None, Some("email")) => Value::Text(format!("info{i}@example.jp")),
                _ => Value::Text(rng.pick(&SHORT).to_string()),
            }
        }
        QuestionKind::LongText => Value::Text(rng.pick(&COMMENTS).to_string()),
    }
}

fn skip_matches(v: &Value, when: &[String]) -> bool {
    match v {
        Value::Choice(c) => when.contains(c),
        Value::Choices(cs) => cs.iter().any(|c| when.contains(c)),
        Value::Bool(b) => when.iter().any(|w| w == if *b { "yes" } else { "no" }),
        _ => false,
    }
}

fn answers_for(survey: &Survey, fac: &SynthFacility, i: usize, rng: &mut Rng) -> Vec<SynthAnswer> {
    let questions: Vec<&Question> = survey.questions().map(|(_, q)| q).collect();
    let mut target: HashMap<&str, usize> = HashMap::new();
    let mut k = 0;
    for s in &survey.sections {
        target.insert(&s.id, k);
        for q in &s.questions {
            target.insert(&q.id, k);
            k += 1;
        }
    }
    let mut out = Vec::new();
    let mut resume_at = 0;
    for (qi, q) in questions.iter().enumerate() {
        let skipped = qi < resume_at;
        // Now and then a respondent answers a question a skip rule sent them past.
        if skipped && !rng.chance(0.02) {
            continue;
        }
        let mut main_value: Option<Value> = None;
        for field in q.fields() {
            let is_write_in = field.part.is_some_and(|p| q.option(p).is_some());
            if is_write_in {
                let code = field.part.unwrap_or_default();
                let chosen = match &main_value {
                    Some(Value::Choice(c)) => c == code,
                    Some(Value::Choices(cs)) => cs.iter().any(|c| c == code),
                    _ => false,
                };
                if !chosen || !rng.chance(0.85) {
                    continue;
                }
                let v = match q.option(code).and_then(|o| o.write_in) {
                    Some(WriteIn::Count) => Value::Int(1 + rng.below(9) as i64),
                    _ => Value::Text(rng.pick(&WRITE_INS).to_string()),
                };
                out.push(SynthAnswer {
                    key: field.key(),
                    value: Some(v),
                    review: Review::No,
                });
                continue;
            }
            let text_kind = matches!(q.kind, QuestionKind::ShortText | QuestionKind::LongText);
            // Blank: missing entirely, or stored as an explicit blank.
            let blank_p = if q.kind == QuestionKind::LongText {
                0.6
            } else if text_kind {
                0.25
            } else {
                0.06
            };
            if rng.chance(blank_p) {
                if rng.chance(0.3) {
                    out.push(SynthAnswer {
                        key: field.key(),
                        value: None,
                        review: Review::No,
                    });
                }
                continue;
            }
            let mut v = gen_value(q, field.part, fac, i, rng);
            let unknown_p = if q.kind.is_numeric() {
                0.07
            } else if text_kind {
                0.0
            } else {
                0.01
            };
            if rng.chance(unknown_p) {
                v = Value::Unknown;
            }
            if field.part.is_none() {
                main_value = Some(v.clone());
            }
            let r = rng.f64();
            let review = if r < 0.03 {
                Review::Pending
            } else if r < 0.045 {
                let other = match (&v, q.kind) {
                    (Value::Choice(_), _)
                    | (Value::Choices(_), _)
                    | (Value::Bool(_), _)
                    | (Value::Int(_), _) => {
                        let mut o = gen_value(q, field.part, fac, i, rng);
                        if o == v {
                            o = Value::Unknown;
                        }
                        Some(o)
                    }
                    _ => Some(Value::Unknown),
                };
                if other.as_ref() == Some(&v) {
                    Review::No
                } else {
                    Review::Conflict(other)
                }
            } else {
                Review::No
            };
            out.push(SynthAnswer {
                key: field.key(),
                value: Some(v),
                review,
            });
        }
        // The respondent follows the form with their own answer, whatever its review state.
        if let (false, Some(v)) = (skipped, &main_value)
            && let Some(rule) = q.skip.iter().find(|r| skip_matches(v, &r.when))
            && let Some(&t) = target.get(rule.to.as_str())
        {
            resume_at = resume_at.max(t);
        }
    }
    out
}

/// `n` facilities of the survey's type, with answers for about 60% of them.
pub fn synthesize(survey: &Survey, n: usize, seed: u64) -> Vec<SynthFacility> {
    let mut rng = Rng::new(seed);
    let t = survey.facility_type;
    let suffix = match t {
        FacilityType::Dental => [
            ("歯科医院", "シカイイン"),
            ("歯科クリニック", "シカクリニック"),
        ],
        FacilityType::HomecareClinic => [
            ("内科クリニック", "ナイカクリニック"),
            ("診療所", "シンリョウジョ"),
        ],
        FacilityType::VisitingNurse => [
            ("訪問看護ステーション", "ホウモンカンゴステーション"),
            ("訪問看護ステーション", "ホウモンカンゴステーション"),
        ],
    };
    (0..n)
        .map(|i| {
            let (p, pk) = PREFIX[i % PREFIX.len()];
            let (m, mk) = MIDDLE[(i / PREFIX.len()) % MIDDLE.len()];
            let (s, sk) = suffix[(i / 200) % 2];
            let round = i / 400;
            let (name, name_kana) = if round == 0 {
                (format!("{p}{m}{s}"), format!("{pk}{mk}{sk}"))
            } else {
                (
                    format!("{p}{m}{s}{}", fullwidth(round + 1)),
                    format!("{pk}{mk}{sk}{}", round + 1),
                )
            };
            let area = if rng.chance(0.03) {
                None
            } else {
                Some(AREAS[(i * 7 + rng.below(3)) % AREAS.len()].to_owned())
            };
            let area_override = if rng.chance(0.02) {
                Some(rng.pick(&AREAS).to_string())
            } else {
                None
            };
            let mailed = rng.chance(0.97);
            let responds = if mailed {
                rng.chance(0.6)
            } else {
                rng.chance(0.5)
            };
            let mut fac = SynthFacility {
                code: format!("13{:08}", i + 1),
                name,
                name_kana,
                facility_type: t.as_str().to_owned(),
                area,
                area_override,
                filings: roster_filings(t, &mut rng),
                address: format!(
                    "東京都世田谷区{}{}丁目{}番{}号",
                    rng.pick(&TOWNS),
                    fullwidth(1 + rng.below(5)),
                    fullwidth(1 + rng.below(30)),
                    fullwidth(1 + rng.below(20))
                ),
                phone: format!("03-{:04}-{:04}", 3000 + rng.below(7000), rng.below(10000)),
                fax: (!rng.chance(0.1))
                    .then(|| format!("03-{:04}-{:04}", 3000 + rng.below(7000), rng.below(10000))),
                mailed,
                responds,
                answers: Vec::new(),
            };
            // A few replies are blank forms.
            if responds && !rng.chance(0.02) {
                fac.answers = answers_for(survey, &fac, i, &mut rng);
            }
            fac
        })
        .collect()
}

/// The in-memory input the store would give for [`synthesize`]d facilities.
pub fn synthetic_input(survey: &Survey, n: usize, seed: u64) -> ReportInput {
    let facilities = synthesize(survey, n, seed)
        .into_iter()
        .map(|f| {
            let mut answers = HashMap::new();
            let mut under_review = HashSet::new();
            for a in f.answers {
                match a.review {
                    Review::No => {
                        answers.insert(a.key, a.value);
                    }
                    Review::Pending => {
                        under_review.insert(a.key);
                    }
                    Review::Conflict(_) => {
                        answers.insert(a.key.clone(), a.value);
                        under_review.insert(a.key);
                    }
                }
            }
            FacilityRecord {
                code: f.code,
                name: f.name,
                name_kana: Some(f.name_kana),
                facility_type: f.facility_type,
                area: f.area_override.or(f.area),
                filings: f.filings,
                address: Some(f.address),
                phone: Some(f.phone),
                fax: f.fax,
                mailed: f.mailed,
                responded: f.responds,
                answers,
                under_review,
            }
        })
        .collect();
    ReportInput {
        survey: survey.clone(),
        area_filter: Vec::new(),
        facilities,
    }
}

/// Registers the survey and stores `n` synthetic facilities with mailings, responses and
/// answers through the store's answer rules, in one transaction. Returns the survey version.
pub async fn seed_store(
    db: &DatabaseConnection,
    parsed: &Parsed,
    n: usize,
    seed: u64,
) -> capsurvey_store::Result<survey_versions::Model> {
    let txn = db.begin().await?;
    let sv = register_survey(&txn, parsed, "test").await?;
    let now = capsurvey_store::now();
    let csv = |row: usize| Source {
        kind: SourceKind::Csv,
        source_ref: format!("replies.csv row {row}"),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: Some(row as i64),
        person: None,
    };
    let fax = |i: usize| Source {
        kind: SourceKind::Scan,
        source_ref: format!("reply-{i}.tif p1"),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: None,
        person: None,
    };
    for (i, f) in synthesize(&parsed.survey, n, seed).into_iter().enumerate() {
        let fac = facilities::ActiveModel {
            code: Set(f.code.clone()),
            facility_type: Set(f.facility_type.clone()),
            name: Set(f.name.clone()),
            name_kana: Set(Some(f.name_kana.clone())),
            postal_code: Set(None),
            address: Set(Some(f.address.clone())),
            phone: Set(Some(f.phone.clone())),
            fax: Set(f.fax.clone()),
            latitude: Set(None),
            longitude: Set(None),
            area: Set(f.area.clone()),
            area_override: Set(f.area_override.clone()),
            filings: Set((!f.filings.is_empty()).then(|| f.filings.join(";"))),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mailing = if f.mailed {
            Some(
                mailings::ActiveModel {
                    survey_version_id: Set(sv.id),
                    facility_id: Set(Some(fac.id)),
                    batch: Set("2024-11".into()),
                    kind: Set("initial".into()),
                    form_code: Set(format!("{}-{:05}", sv.id, i + 1)),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?,
            )
        } else {
            None
        };
        if !f.responds {
            continue;
        }
        let response = response_for(&txn, sv.id, fac.id, mailing.map(|m| m.id)).await?;
        for a in f.answers {
            match a.review {
                Review::No => {
                    put_answer(&txn, &response, &a.key, a.value, None, &csv(i + 2), "test").await?;
                }
                Review::Pending => {
                    let task = NewTask {
                        kind: TaskKind::Mark,
                        survey_version_id: Some(sv.id),
                        response_id: None,
                        field_key: None,
                        answer_id: None,
                        scanned_page_id: None,
                        payload: serde_json::json!({"guess": a.value}),
                        dedup_key: format!("mark:{}:{}", response.id, a.key),
                    };
                    put_for_review(&txn, &response, &a.key, a.value, Some(0.55), &fax(i), task)
                        .await?;
                }
                Review::Conflict(other) => {
                    put_answer(&txn, &response, &a.key, a.value, None, &csv(i + 2), "test").await?;
                    put_answer(&txn, &response, &a.key, other, Some(0.9), &fax(i), "test").await?;
                }
            }
        }
    }
    txn.commit().await?;
    Ok(sv)
}

/// A small report of the dental survey (60 facilities), for template tests.
pub fn small_report() -> crate::Report {
    let parsed = shipped_survey("dental");
    let input = synthetic_input(&parsed.survey, 60, 7);
    let mut opts =
        crate::ReportOptions::new(chrono::NaiveDate::from_ymd_opt(2025, 1, 20).expect("date"));
    opts.min_cell = 3;
    crate::aggregate(&input, &opts)
}
