//! A realistic survey form for the tests and the size/speed example: four A4 pages
//! of questions with check boxes, a header with the 管理No and FAX number,
//! registration marks and a page code, laid out naively with the public API.

#![allow(dead_code)]

use capsurvey_forms::{Document, Rect, Stroke, mm, text};

/// Questions of the home-care clinic and visiting-nurse surveys: `question|option/option/…`.
const QUESTIONS: &str = "\
施設種別をお答えください。|病院/有床診療所/無床診療所
在宅療養支援診療所・在宅療養支援病院の届出の状況をお答えください。|機能強化型（単独型）/機能強化型（連携型）/従来型/届出なし
届出をしていない理由をお答えください（※○はいくつでも）。|24時間の往診が難しい/受入病院の確保が難しい/患者負担が増える/届出なしでも支障がない
在宅医療に関わる職員数をご記入ください（該当なしは「0」）。|医師（常勤）/医師（非常勤）/看護師/薬剤師/事務職員/その他
訪問診療の実施状況をお答えください。|実施している/実施していない・予定なし/実施していない・今後取り組みたい
訪問診療を行った患者の実人数（令和6年10月の1か月間）をご記入ください。|居宅の患者/施設の患者
往診の実施状況をお答えください。|実施している/実施していない・予定なし/実施していない・今後取り組みたい
24時間の往診体制についてお答えください。|自院単独で対応/他院と連携して対応/体制なし
入院が必要になった時の病床の確保についてお答えください。|自院で確保/連携型の他医療機関/在宅療養後方支援病院/地域の他医療機関/救急搬送のため特定の連携なし/その他
在宅での看取りを実施していますか。|はい/いいえ
過去1年間の看取り件数をご記入ください。|自宅での看取り/施設での看取り
人生の最終段階における意思決定支援（ACP）の指針を作成していますか。|作成している/作成していない
対応可能な患者の状態をお答えください（※○はいくつでも）。|がん末期（医療用麻薬の使用を含む）/認知症/精神疾患/神経難病（ALS等）/小児・医療的ケア児
対応可能な医療処置をお答えください（※○はいくつでも）。|在宅酸素療法/人工呼吸器（NPPV・TPPV）/気管切開・気管カニューレ/喀痰吸引/中心静脈栄養/末梢点滴/胃ろう・経管栄養/膀胱留置カテーテル/自己導尿/人工肛門・人工膀胱/腹膜透析/疼痛管理（PCA）/褥瘡処置/輸血
在宅で実施できる検査をお答えください。|採血/心電図/ポータブルエコー/ポータブルX線
新規患者の受入についてお答えください。|可/条件付きで可/不可
連携している機関をお答えください（※○はいくつでも）。|病院/診療所/訪問看護ステーション/居宅介護支援事業所/薬局/歯科診療所
退院前カンファレンスに参加していますか。|参加している/参加していない
介護施設の協力医療機関になっていますか。|なっている/なっていない
法人の種類をお答えください。|医療法人/営利法人/社会福祉法人/NPO法人/社団・財団法人/生活協同組合/地方公共団体/その他
併設している施設をお答えください（※○はいくつでも）。|病院/診療所/居宅介護支援事業所/訪問介護事業所/なし
職種別の職員数（常勤換算）をご記入ください。|保健師・助産師・看護師/准看護師/理学療法士/作業療法士/言語聴覚士/精神保健福祉士/介護支援専門員/事務職員
24時間対応体制加算・緊急時訪問看護加算の届出をしていますか。|届出あり/届出なし
機能強化型訪問看護管理療養費の届出の状況をお答えください。|機能強化型1/機能強化型2/機能強化型3/届出なし・検討中/予定なし
業務継続計画（BCP）の策定状況をお答えください。|策定済・発動経験あり/策定済・研修実施/策定済・研修予定/策定中/これから策定する
利用者の実人数（令和6年10月）をご記入ください。|医療保険/介護保険
小児（0〜14歳）・医療的ケア児を受け入れていますか。|受け入れている/受け入れていない
対応可能な医療処置をお答えください（※○はいくつでも）。|気管内吸引/その他の吸引/在宅酸素/膀胱留置カテーテル/ドレーン管理/褥瘡の予防・処置/創傷処置/中心静脈栄養/経鼻経管栄養・胃ろう/人工肛門・人工膀胱/自己導尿/気管カニューレ/人工呼吸器/がん化学療法/疼痛管理/ターミナルケア/注射/点滴/服薬管理/浣腸・摘便/在宅透析/採血/吸入
歯科訪問診療の実施状況をお答えください。|専門に行っている（外来5%未満）/実施している/直近1年間は実施していない/実施したことがない
摂食嚥下に関して対応できる内容をお答えください（※○はいくつでも）。|スクリーニング/嚥下内視鏡検査（VE）の自院実施/嚥下造影（VF）の連携/摂食機能療法/食形態の指導
区の在宅医療・介護資源マップへの掲載についてお答えください。|掲載してよい/掲載しない";

const INSTRUCTIONS: &str = "この調査は、区内で在宅医療を行っている医療機関・事業所の実施状況を把握し、\
在宅療養を支える体制づくりに役立てることを目的としています。令和6年11月1日時点の状況をご記入ください。\
あてはまる選択肢の□に「✓」を記入してください。数字は実人数でご記入ください。該当なしは「0」、\
わからない場合は「－」とご記入ください。記入を訂正するときは、□を塗りつぶしてから正しい□に記入してください。";

/// Left/right/top/bottom margin.
fn margin() -> f64 {
    mm(15.0)
}

/// Builds the four-page form for one facility; returns it and the number of
/// non-space characters drawn.
pub fn survey_form(facility: &str, control_no: u32) -> (Document, usize) {
    let mut doc = Document::new(format!("在宅医療・介護資源調査 調査票（{facility}）"));
    let mut chars = 0usize;
    let questions: Vec<(&str, Vec<&str>)> = QUESTIONS
        .lines()
        .map(|l| {
            let (q, opts) = l.split_once('|').expect("question|options");
            (q, opts.split('/').collect())
        })
        .collect();
    let mut next_q = 0;
    for page_no in 1..=4 {
        let page = doc.add_page();
        let (w, h) = (page.width(), page.height());
        let left = margin();
        let right = w - margin();
        let mut put = |page: &mut capsurvey_forms::Page, x: f64, y: f64, size: f64, s: &str| {
            chars += s.chars().filter(|c| !c.is_whitespace()).count();
            page.text(x, y, size, s).expect("all glyphs in the font")
        };
        // Registration marks in the corners, for deskewing the fax.
        for (x, y) in [
            (mm(8.0), mm(8.0)),
            (w - mm(13.0), mm(8.0)),
            (mm(8.0), h - mm(13.0)),
            (w - mm(13.0), h - mm(13.0)),
        ] {
            page.fill_rect(Rect::new(x, y, mm(5.0), mm(5.0)), 0.0);
        }
        // Header: FAX number large, 管理No boxed at the top right.
        put(page, left, mm(16.0), 14.0, "返信先FAX 03-5432-1098");
        let no = format!("管理No {control_no:04}");
        let no_w = text::measure(&no, 11.0).unwrap();
        page.stroke_rect(
            Rect::new(right - no_w - 8.0, mm(15.0), no_w + 8.0, 18.0),
            0.8,
        );
        put(page, right - no_w - 4.0, mm(15.0) + 3.5, 11.0, &no);
        let mut y = mm(26.0);
        if page_no == 1 {
            put(page, left, y, 16.0, "在宅医療・介護資源に関する調査 調査票");
            y += 24.0;
            for line in text::break_lines(INSTRUCTIONS, 9.5, right - left).unwrap() {
                put(page, left, y, 9.5, line.text);
                y += 14.0;
            }
            y += 6.0;
            put(page, left, y, 10.5, &format!("施設名：{facility}"));
            page.line(left + 50.0, y + 13.0, right, y + 13.0, 0.5);
            y += 20.0;
            put(page, left, y, 10.5, "ご担当者名：");
            put(page, left + 260.0, y, 10.5, "お電話番号：");
            y += 22.0;
        }
        // Questions until the page is full, spread evenly over the four pages.
        let last_q = next_q + (questions.len() - next_q).div_ceil(5 - page_no);
        while next_q < last_q {
            let (q, opts) = &questions[next_q];
            let label = format!("問{} {q}", next_q + 1);
            let q_lines = text::break_lines(&label, 10.5, right - left).unwrap();
            let needed = q_lines.len() as f64 * 15.0 + 20.0 * (1.0 + opts.len() as f64 / 3.0);
            if y + needed > h - mm(30.0) {
                break;
            }
            page.fill_rect(
                Rect::new(
                    left,
                    y - 2.0,
                    right - left,
                    q_lines.len() as f64 * 15.0 + 2.0,
                ),
                0.9,
            );
            for line in q_lines {
                put(page, left + 2.0, y, 10.5, line.text);
                y += 15.0;
            }
            y += 4.0;
            let mut x = left + mm(4.0);
            for (i, opt) in opts.iter().enumerate() {
                let label = format!("{}. {opt}", i + 1);
                let lw = text::measure(&label, 9.5).unwrap() + mm(6.0);
                if x + lw > right {
                    x = left + mm(4.0);
                    y += 18.0;
                }
                page.stroke_rect(Rect::new(x, y, mm(3.5), mm(3.5)), Stroke::new(0.7));
                put(page, x + mm(5.0), y, 9.5, &label);
                x += lw + mm(4.0);
            }
            y += 24.0;
            next_q += 1;
        }
        // Page code: 12×12 cells of 1.2 mm carrying page and control numbers.
        let bits = (u64::from(control_no) << 8) | page_no as u64;
        page.fill_cells((mm(20.0), h - mm(24.0)), mm(1.2), (12, 12), 0.0, |c, r| {
            c == 0 || r == 11 || (bits >> ((r * 12 + c) % 64)) & 1 == 1
        });
        put(
            page,
            right - 30.0,
            h - mm(14.0),
            9.0,
            &format!("{page_no}/4"),
        );
        page.line(
            left,
            h - mm(27.0),
            right,
            h - mm(27.0),
            Stroke::new(0.5).dashed(3.0, 2.0),
        );
    }
    (doc, chars)
}
