//! The store decodes the hottest tables by column position instead of through SeaORM's
//! derived decoding; both must give the same models, NULLs and enums included, on the
//! engine the suite runs on.

use entity::{change, release, service};
use portfolio::store::rows::{self, Columns, Decode, Decoder};
use sea_orm::sea_query::{Alias, Asterisk, Expr, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

/// Every row of `table`, decoded both ways, after a column that is not the table's (as the
/// store's statements add a parent id and sort keys).
async fn decode_both_ways<M>(app: &TestApp, table: &str) -> (Vec<M>, Vec<M>)
where
    M: Decode + FromQueryResult,
{
    let backend = app.db.get_database_backend();
    let sql = format!("SELECT 7 AS __parent, \"{table}\".* FROM \"{table}\" ORDER BY id");
    let rows = app
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("rows");
    let mut decoder = Decoder::<M>::default();
    let by_position = rows
        .iter()
        .map(|r| decoder.decode(r).expect("decoded by position"))
        .collect();
    let by_name = rows
        .iter()
        .map(|r| M::from_query_result(r, "").expect("decoded by SeaORM"))
        .collect();
    (by_position, by_name)
}

/// Every row of `table` as the store fetches it (on SQLite, one JSON document), decoded.
async fn fetched<M: Decode>(app: &TestApp, table: &'static str) -> Vec<M> {
    let mut q = Query::select();
    q.expr_as(Expr::val(7), Alias::new("__parent"))
        .column((Alias::new(table), Asterisk))
        .from(Alias::new(table))
        // The driver path runs the statement as given: without an order, PostgreSQL answers
        // in physical order, which updates change.
        .order_by(Alias::new("id"), Order::Asc);
    let found = rows::fetch::<M, _, _>(
        &app.db,
        &q,
        Columns::ALL,
        &["__parent"],
        &[("id", Order::Asc)],
    )
    .await
    .expect("rows");
    let mut decoder = Decoder::<M>::default();
    found
        .iter()
        .map(|r| decoder.decode(r).expect("decoded"))
        .collect()
}

#[tokio::test]
async fn changes_releases_and_services_read_by_position_or_as_json_equal_seaorms_decoding() {
    let app = spawn_app().await;
    // A cancelled change adds a cancellation reason to the demo's variety of states,
    // outcomes and empty dates.
    let requester = app.token("requester");
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(
        &app,
        &requester,
        "cancelChange",
        json!({ "id": id, "reason": "Not needed after all" }),
    )
    .await;

    let (fast, derived) = decode_both_ways::<change::Model>(&app, "change").await;
    assert!(fast.len() > 20, "the demo's changes: {}", fast.len());
    assert!(fast.iter().any(|c| c.cancellation_reason.is_some()));
    assert!(fast.iter().any(|c| c.outcome.is_some()));
    assert!(fast.iter().any(|c| c.closed_at.is_none()));
    assert_eq!(fast, derived);
    assert_eq!(fetched::<change::Model>(&app, "change").await, derived);

    let (fast, derived) = decode_both_ways::<release::Model>(&app, "release").await;
    assert!(fast.len() > 3, "the demo's releases: {}", fast.len());
    assert!(fast.iter().any(|r| r.deployed_at.is_some()));
    assert!(fast.iter().any(|r| r.deployed_at.is_none()));
    assert_eq!(fast, derived);
    assert_eq!(fetched::<release::Model>(&app, "release").await, derived);

    let (fast, derived) = decode_both_ways::<service::Model>(&app, "service").await;
    assert!(fast.len() > 5, "the demo's services: {}", fast.len());
    assert!(fast.iter().any(|s| s.owner_id.is_some()));
    assert_eq!(fast, derived);
    assert_eq!(fetched::<service::Model>(&app, "service").await, derived);
}
