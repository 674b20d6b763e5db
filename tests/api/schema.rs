//! The SDL file at the repository root is the schema the server serves.

#[test]
fn schema_graphql_at_the_repo_root_equals_the_served_schema() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists");
    let served = portfolio::graphql::sdl();
    assert!(
        on_disk == served,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and review the diff"
    );
}
