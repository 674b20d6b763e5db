//! Where a request reads and writes: the pool, or the one transaction of a dry run.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionOptions, TransactionTrait,
};

/// The database as one request sees it.
///
/// Normally the pool. A dry run holds one transaction open for its whole request, so
/// every mutation of the operation and every field read after it see what the mutations
/// wrote, exactly as in a real run, and the end of the request rolls it all back.
#[derive(Clone, Debug)]
pub enum Db {
    Pool(DatabaseConnection),
    DryRun(Arc<DatabaseTransaction>),
}

impl From<DatabaseConnection> for Db {
    fn from(db: DatabaseConnection) -> Self {
        Self::Pool(db)
    }
}

impl Db {
    /// Opens the transaction of a use case: a transaction on the pool, a savepoint in a
    /// dry run (its writes stay visible to the rest of the request until the end rolls
    /// everything back).
    pub async fn begin(&self, options: TransactionOptions) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Self::Pool(db) => db.begin_with_options(options).await,
            Self::DryRun(txn) => txn.begin().await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Pool(db) => db.get_database_backend(),
            Self::DryRun(txn) => txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Pool(db) => db.execute_raw(stmt).await,
            Self::DryRun(txn) => txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Pool(db) => db.execute_unprepared(sql).await,
            Self::DryRun(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Pool(db) => db.query_one_raw(stmt).await,
            Self::DryRun(txn) => txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Pool(db) => db.query_all_raw(stmt).await,
            Self::DryRun(txn) => txn.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self {
            Self::Pool(db) => db.support_returning(),
            Self::DryRun(txn) => txn.support_returning(),
        }
    }
}
