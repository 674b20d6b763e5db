//! The files `portfolio import-catalog` reads: the catalog as a CMDB or an HR system exports
//! it, one record per person, partner, service or offering, as CSV or JSON. Each record
//! keeps its line, so a refusal names where to look.
//!
//! JSON: an array of objects, each with a `type` (`person`, `partner`, `service`,
//! `offering`) and its fields. CSV: a header row naming the same fields (`type` first), one
//! record per row, an empty cell meaning "absent"; lists in one cell separated by `;`, the
//! parts of a partner link (`partner|role|contract`) or a component
//! (`KIND|name|description`) by `|`.

use entity::{Criticality, OfferingComponentKind, OfferingStatus, PartnerKind, ServiceLifecycle};
use portfolio_core::domain::catalog_upsert::{
    CatalogRecord, CatalogRow, ComponentRow, OfferingRow, PartnerLinkRow, PartnerRow, PersonRow,
    ServiceRow,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One record as files spell it.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum FileRecord {
    #[serde(rename_all = "camelCase")]
    Person {
        email: String,
        name: String,
        skills: Option<Vec<String>>,
    },
    #[serde(rename_all = "camelCase")]
    Partner { name: String, kind: PartnerKind },
    #[serde(rename_all = "camelCase")]
    Service {
        key: String,
        name: String,
        description: Option<String>,
        lifecycle: Option<ServiceLifecycle>,
        criticality: Option<Criticality>,
        /// The owner's e-mail.
        owner: Option<String>,
        scope: Option<String>,
        partners: Option<Vec<FileLink>>,
    },
    #[serde(rename_all = "camelCase")]
    Offering {
        key: String,
        name: String,
        description: Option<String>,
        target_consumer_group: Option<String>,
        status: Option<OfferingStatus>,
        services: Option<Vec<String>>,
        components: Option<Vec<FileComponent>>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLink {
    partner: String,
    role: String,
    contract: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileComponent {
    kind: OfferingComponentKind,
    name: String,
    #[serde(default)]
    description: String,
}

impl From<FileRecord> for CatalogRecord {
    fn from(r: FileRecord) -> Self {
        match r {
            FileRecord::Person {
                email,
                name,
                skills,
            } => Self::Person(PersonRow {
                email,
                name,
                skills,
            }),
            FileRecord::Partner { name, kind } => Self::Partner(PartnerRow { name, kind }),
            FileRecord::Service {
                key,
                name,
                description,
                lifecycle,
                criticality,
                owner,
                scope,
                partners,
            } => Self::Service(ServiceRow {
                key,
                name,
                description,
                lifecycle,
                criticality,
                owner_email: owner,
                scope,
                partners: partners.map(|p| {
                    p.into_iter()
                        .map(|l| PartnerLinkRow {
                            partner: l.partner,
                            role: l.role,
                            contract: l.contract,
                        })
                        .collect()
                }),
            }),
            FileRecord::Offering {
                key,
                name,
                description,
                target_consumer_group,
                status,
                services,
                components,
            } => Self::Offering(OfferingRow {
                key,
                name,
                description,
                target_consumer_group,
                status,
                services,
                components: components.map(|c| {
                    c.into_iter()
                        .map(|c| ComponentRow {
                            kind: c.kind,
                            name: c.name,
                            description: c.description,
                        })
                        .collect()
                }),
            }),
        }
    }
}

/// Reads one record from its JSON form; a misspelt field or value makes it unreadable.
fn record(v: Value) -> CatalogRecord {
    match serde_json::from_value::<FileRecord>(v) {
        Ok(r) => r.into(),
        Err(e) => CatalogRecord::Unreadable(e.to_string()),
    }
}

/// The records of a JSON array, each with its line.
pub fn from_json(text: &str) -> Result<Vec<CatalogRow>, String> {
    let items: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array of records: {e}"))?;
    let lines = element_lines(text);
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, v)| CatalogRow {
            source: format!("line {}", lines.get(i).copied().unwrap_or(0)),
            record: record(v),
        })
        .collect())
}

/// The line each element of a top-level JSON array starts on (the text is valid JSON).
fn element_lines(text: &str) -> Vec<usize> {
    let (mut line, mut depth, mut in_string, mut escaped) = (1, 0i32, false, false);
    let mut out = Vec::new();
    let mut expecting = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            if c == '\n' {
                line += 1;
            }
            continue;
        }
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '[' | '{' if depth == 0 => {
                depth += 1;
                expecting = true;
                continue;
            }
            _ => {}
        }
        if c.is_whitespace() {
            continue;
        }
        if depth == 1 && expecting && c != ']' {
            out.push(line);
            expecting = false;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    out
}

/// Splits a list cell on `;`, leaving out empty entries.
fn items(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// A CSV cell as the JSON value of field `field`.
fn cell(field: &str, value: &str) -> Value {
    let parts = |item: &str, names: &[&str]| {
        let mut obj = Map::new();
        for (name, part) in names.iter().zip(item.splitn(names.len(), '|')) {
            if !part.trim().is_empty() {
                obj.insert((*name).to_owned(), Value::String(part.trim().to_owned()));
            }
        }
        Value::Object(obj)
    };
    match field {
        "skills" | "services" => Value::Array(items(value).map(|s| s.into()).collect()),
        "partners" => Value::Array(
            items(value)
                .map(|i| parts(i, &["partner", "role", "contract"]))
                .collect(),
        ),
        "components" => Value::Array(
            items(value)
                .map(|i| parts(i, &["kind", "name", "description"]))
                .collect(),
        ),
        _ => Value::String(value.to_owned()),
    }
}

/// The records of a CSV file, each with its line.
pub fn from_csv(text: &str) -> Result<Vec<CatalogRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("no CSV header: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if !header.iter().any(|h| h == "type") {
        return Err("the CSV header has no `type` column".into());
    }
    let mut rows = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| format!("unreadable CSV: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut obj = Map::new();
        for (field, value) in header.iter().zip(record.iter()) {
            if !value.trim().is_empty() {
                obj.insert(field.clone(), cell(field, value.trim()));
            }
        }
        let record = if record.len() > header.len() {
            CatalogRecord::Unreadable(format!(
                "{} cells, but the header names {} columns",
                record.len(),
                header.len()
            ))
        } else {
            self::record(Value::Object(obj))
        };
        rows.push(CatalogRow {
            source: format!("line {line}"),
            record,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_records_keep_the_line_they_start_on() {
        let text = "[\n  {\"type\": \"partner\", \"name\": \"A [x]\", \"kind\": \"VENDOR\"},\n\n  {\n    \"type\": \"person\",\n    \"email\": \"a@b.org\", \"name\": \"A\"\n  }\n]";
        let rows = from_json(text).expect("valid");
        let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(sources, ["line 2", "line 4"]);
        assert!(matches!(rows[0].record, CatalogRecord::Partner(_)));
        assert!(matches!(rows[1].record, CatalogRecord::Person(_)));
    }

    #[test]
    fn csv_cells_split_into_lists_and_links_and_empty_cells_are_absent() {
        let text = "type,key,name,owner,partners,lifecycle\n\
                    service,vpn,VPN,ann@example.org,Globex|hosting|C-1;Initech|support|,LIVE\n\
                    service,fax,Fax,,,\n";
        let rows = from_csv(text).expect("valid");
        match &rows[0].record {
            CatalogRecord::Service(s) => {
                assert_eq!(s.owner_email.as_deref(), Some("ann@example.org"));
                let partners = s.partners.as_ref().expect("partners");
                assert_eq!(partners.len(), 2);
                assert_eq!(partners[0].contract.as_deref(), Some("C-1"));
                assert_eq!(partners[1].contract, None);
                assert_eq!(s.lifecycle, Some(ServiceLifecycle::Live));
            }
            other => panic!("{other:?}"),
        }
        match &rows[1].record {
            CatalogRecord::Service(s) => {
                assert!(s.owner_email.is_none() && s.partners.is_none() && s.lifecycle.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(rows[1].source, "line 3");
    }

    #[test]
    fn a_misspelt_field_or_value_makes_the_record_unreadable_with_a_reason() {
        let rows = from_csv("type,key,name,colour\nservice,vpn,VPN,blue\n").expect("valid");
        assert!(
            matches!(&rows[0].record, CatalogRecord::Unreadable(why) if why.contains("colour"))
        );
        let rows = from_json(r#"[{"type":"partner","name":"X","kind":"FRIEND"}]"#).expect("valid");
        assert!(
            matches!(&rows[0].record, CatalogRecord::Unreadable(why) if why.contains("FRIEND"))
        );
        let rows = from_json(r#"[{"type":"planet","name":"X"}]"#).expect("valid");
        assert!(matches!(&rows[0].record, CatalogRecord::Unreadable(_)));
    }
}
