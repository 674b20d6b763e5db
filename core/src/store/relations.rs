//! Every relationship the API walks, defined once from the entities' own columns: the child
//! table, the column (or junction table) that ties a child to its parent, the order. A
//! renamed column fails to compile here instead of failing at run time, and a relation is
//! typed by its parent and child entities, so a relation cannot be loaded as the wrong
//! entity. The tests check each against the entities' `belongs_to` definitions.

use std::marker::PhantomData;

use entity::*;
use sea_orm::{ColumnTrait, EntityName, EntityTrait, IdenStatic};

use super::lookup::Children;
use super::page::Via;

impl Via {
    /// The listed table's column `fk` holds the parent's id.
    pub fn column<C: ColumnTrait>(fk: C) -> Self {
        Via::Column(fk.as_str())
    }

    /// A junction table ties listed rows to parents: its column `child` holds the listed
    /// row's id, `parent` the parent's (both columns of the one junction entity).
    pub fn junction<C: ColumnTrait>(child: C, parent: C) -> Self {
        Via::Junction {
            table: C::EntityName::default().table_name(),
            child: child.as_str(),
            parent: parent.as_str(),
        }
    }
}

/// The `C` children of a `P` row, all at once (lists too short to page).
pub struct Relation<P, C> {
    spec: Children,
    _entities: PhantomData<fn(P) -> C>,
}

impl<P, C> Clone for Relation<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, C> Copy for Relation<P, C> {}

impl<P: EntityTrait, C: EntityTrait> Relation<P, C> {
    /// Children whose column `fk` holds the parent's id, ordered by `order`.
    fn by_column(fk: C::Column, order: C::Column) -> Self {
        Self::new(Via::column(fk), order)
    }

    /// Children tied to their parent through junction columns `child` and `parent`,
    /// ordered by `order`.
    fn through<J: ColumnTrait>(child: J, parent: J, order: C::Column) -> Self {
        Self::new(Via::junction(child, parent), order)
    }

    fn new(via: Via, order: C::Column) -> Self {
        Self {
            spec: Children {
                table: C::default().table_name(),
                via,
                order_by: order.as_str(),
            },
            _entities: PhantomData,
        }
    }

    /// How the store reads it.
    pub fn spec(self) -> Children {
        self.spec
    }
}

/// The services a blackout window names.
pub fn services_of_window() -> Relation<blackout_window::Entity, service::Entity> {
    Relation::through(
        blackout_window_service::Column::ServiceId,
        blackout_window_service::Column::WindowId,
        service::Column::Id,
    )
}

/// A service's partner links, by partner.
pub fn partners_of_service() -> Relation<service::Entity, service_partner::Entity> {
    Relation::by_column(
        service_partner::Column::ServiceId,
        service_partner::Column::PartnerId,
    )
}

/// A partner's service links, by service.
pub fn services_of_partner() -> Relation<partner::Entity, service_partner::Entity> {
    Relation::by_column(
        service_partner::Column::PartnerId,
        service_partner::Column::ServiceId,
    )
}

/// An offering's components.
pub fn components_of_offering() -> Relation<service_offering::Entity, offering_component::Entity> {
    Relation::by_column(
        offering_component::Column::OfferingId,
        offering_component::Column::Id,
    )
}

/// A change's approval decisions, oldest first.
pub fn approvals_of_change() -> Relation<change::Entity, approval::Entity> {
    Relation::by_column(approval::Column::ChangeId, approval::Column::Id)
}

/// A project's releases.
pub fn releases_of_project() -> Relation<project::Entity, release::Entity> {
    Relation::by_column(release::Column::ProjectId, release::Column::Id)
}

/// The releases a change was ever part of.
pub fn releases_of_change() -> Relation<change::Entity, release::Entity> {
    Relation::through(
        release_change::Column::ReleaseId,
        release_change::Column::ChangeId,
        release::Column::Id,
    )
}

/// Every service a change touches, by id (the scopes the rules check).
pub fn all_services_of_change() -> Relation<change::Entity, service::Entity> {
    Relation::through(
        change_service::Column::ServiceId,
        change_service::Column::ChangeId,
        service::Column::Id,
    )
}

/// The dependencies a service has (its links to the services it depends on), by the
/// service depended on.
pub fn dependencies_of_service() -> Relation<service::Entity, service_dependency::Entity> {
    Relation::by_column(
        service_dependency::Column::ServiceId,
        service_dependency::Column::DependsOnId,
    )
}

/// The services a service depends on, through `service_dependency`.
pub fn services_depended_on() -> Via {
    Via::junction(
        service_dependency::Column::DependsOnId,
        service_dependency::Column::ServiceId,
    )
}

/// The services that depend on a service, through `service_dependency`.
pub fn dependents_of_service() -> Via {
    Via::junction(
        service_dependency::Column::ServiceId,
        service_dependency::Column::DependsOnId,
    )
}

/// The changes a release carries.
pub fn changes_of_release() -> Relation<release::Entity, change::Entity> {
    Relation::through(
        release_change::Column::ChangeId,
        release_change::Column::ReleaseId,
        change::Column::Id,
    )
}

/// The release that follows a release in its sequence.
pub fn next_releases() -> Relation<release::Entity, release::Entity> {
    Relation::by_column(release::Column::PreviousId, release::Column::Id)
}

/// The process roles a person holds.
pub fn roles_of_person() -> Relation<person::Entity, process_role_assignment::Entity> {
    Relation::by_column(
        process_role_assignment::Column::PersonId,
        process_role_assignment::Column::Id,
    )
}

/// The role assignments of a process.
pub fn roles_of_process() -> Relation<process::Entity, process_role_assignment::Entity> {
    Relation::by_column(
        process_role_assignment::Column::ProcessId,
        process_role_assignment::Column::Id,
    )
}

/// A process's policies.
pub fn policies_of_process() -> Relation<process::Entity, policy::Entity> {
    Relation::by_column(policy::Column::ProcessId, policy::Column::Id)
}

/// The services a change touches, through `change_service` (paged lists, impacted
/// offerings).
pub fn services_of_change() -> Via {
    Via::junction(
        change_service::Column::ServiceId,
        change_service::Column::ChangeId,
    )
}

/// The changes that touch a service, through `change_service`.
pub fn changes_of_service() -> Via {
    Via::junction(
        change_service::Column::ChangeId,
        change_service::Column::ServiceId,
    )
}

/// The services a release ships, through `release_service` (paged lists, impacted
/// offerings).
pub fn services_of_release() -> Via {
    Via::junction(
        release_service::Column::ServiceId,
        release_service::Column::ReleaseId,
    )
}

/// The releases that ship to a service, through `release_service`.
pub fn releases_of_service() -> Via {
    Via::junction(
        release_service::Column::ReleaseId,
        release_service::Column::ServiceId,
    )
}

/// The services an offering holds, through `offering_service`.
pub fn services_of_offering() -> Via {
    Via::junction(
        offering_service::Column::ServiceId,
        offering_service::Column::OfferingId,
    )
}

/// The offerings that hold a service, through `offering_service`.
pub fn offerings_of_service() -> Via {
    Via::junction(
        offering_service::Column::OfferingId,
        offering_service::Column::ServiceId,
    )
}

#[cfg(test)]
mod tests {
    use sea_orm::{Related, RelationDef};

    use super::*;

    /// The column of `def`'s child side, as the entity's `belongs_to` declares it.
    fn foreign_key(def: RelationDef) -> String {
        match def.from_col {
            sea_orm::Identity::Unary(c) => c.to_string(),
            other => panic!("a one-column key, not {other:?}"),
        }
    }

    /// The child column of a relation read through a column.
    fn column_of<P, C>(r: Relation<P, C>) -> &'static str
    where
        P: EntityTrait,
        C: EntityTrait,
    {
        match r.spec().via {
            Via::Column(c) => c,
            other => panic!("a column relation, not {other:?}"),
        }
    }

    #[test]
    fn column_relations_use_the_foreign_keys_the_entities_declare() {
        let declared = |def: RelationDef| foreign_key(def);
        assert_eq!(
            column_of(approvals_of_change()),
            declared(<approval::Entity as Related<change::Entity>>::to())
        );
        assert_eq!(
            column_of(releases_of_project()),
            declared(<release::Entity as Related<project::Entity>>::to())
        );
        assert_eq!(
            column_of(components_of_offering()),
            declared(<offering_component::Entity as Related<
                service_offering::Entity,
            >>::to())
        );
        assert_eq!(
            column_of(roles_of_person()),
            declared(<process_role_assignment::Entity as Related<
                person::Entity,
            >>::to())
        );
        assert_eq!(
            column_of(roles_of_process()),
            declared(<process_role_assignment::Entity as Related<
                process::Entity,
            >>::to())
        );
        assert_eq!(
            column_of(policies_of_process()),
            declared(<policy::Entity as Related<process::Entity>>::to())
        );
    }

    #[test]
    fn junction_relations_name_the_junction_of_their_two_entities() {
        let Via::Junction {
            table,
            child,
            parent,
        } = releases_of_change().spec().via
        else {
            panic!("a junction");
        };
        assert_eq!(
            (table, child, parent),
            ("release_change", "release_id", "change_id")
        );
        let Via::Junction {
            table,
            child,
            parent,
        } = changes_of_release().spec().via
        else {
            panic!("a junction");
        };
        assert_eq!(
            (table, child, parent),
            ("release_change", "change_id", "release_id")
        );
        assert_eq!(services_of_window().spec().table, "service");
    }
}
