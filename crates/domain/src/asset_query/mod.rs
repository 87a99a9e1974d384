//! Finding assets: the `$filter`, `$orderBy` and `$fields` parameters of
//! `GET /asset/v1/content/assets` and the body of `POST …/assets/query`, all read into one
//! [`AssetQuery`] that the store turns into SQL.
//!
//! Property and operator names are case-insensitive (fuel-rest lowercases whole URLs).
//! Text comparisons ignore ASCII case, as Marketing Cloud's do. `like`, `contains` and
//! `mustContain` match a substring; `%` and `_` in their value are plain characters.
//! Filters on `assetType.name` and `status.name` are resolved here, against the known
//! types and statuses, into conditions on their ids.

mod body;
mod condition;
mod fields;
mod filter;
mod order;

pub use body::{BodyPage, BodySort, QueryBody, QueryNode};
pub use condition::{Literal, condition};
pub use fields::{ASSET_FIELDS, FieldSelection};
pub use filter::parse_filter;
pub use order::{MAX_SORT_KEYS, parse_order_by};

use time::OffsetDateTime;

use crate::paging::{PageRequest, PagingError};

/// Page size when a client gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page size a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;

/// What to list: which assets, in which order, which page.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetQuery {
    /// None: every asset of the account.
    pub filter: Option<Filter>,
    /// Sort keys, most significant first; the store breaks ties by id.
    pub sort: Vec<Sort>,
    pub page: PageRequest,
}

impl AssetQuery {
    /// Reads the URL parameters `$filter` and `$orderBy` (absent or blank: none).
    pub fn from_params(
        filter: Option<&str>,
        order_by: Option<&str>,
        page: PageRequest,
    ) -> Result<Self, QueryError> {
        Ok(Self {
            filter: filter.map(parse_filter).transpose()?.flatten(),
            sort: order_by
                .map(parse_order_by)
                .transpose()?
                .unwrap_or_default(),
            page,
        })
    }
}

/// A property of an asset that clients filter and sort on, by its wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    Id,
    Name,
    CustomerKey,
    ObjectId,
    Description,
    AssetTypeId,
    AssetTypeName,
    StatusId,
    StatusName,
    CreatedDate,
    ModifiedDate,
}

impl Property {
    /// Every property, in the order error messages list them.
    pub const ALL: [Property; 11] = [
        Property::Id,
        Property::Name,
        Property::CustomerKey,
        Property::ObjectId,
        Property::Description,
        Property::AssetTypeId,
        Property::AssetTypeName,
        Property::StatusId,
        Property::StatusName,
        Property::CreatedDate,
        Property::ModifiedDate,
    ];

    pub fn wire_name(self) -> &'static str {
        match self {
            Property::Id => "id",
            Property::Name => "name",
            Property::CustomerKey => "customerKey",
            Property::ObjectId => "objectID",
            Property::Description => "description",
            Property::AssetTypeId => "assetType.id",
            Property::AssetTypeName => "assetType.name",
            Property::StatusId => "status.id",
            Property::StatusName => "status.name",
            Property::CreatedDate => "createdDate",
            Property::ModifiedDate => "modifiedDate",
        }
    }

    /// Finds a property by wire name in any case (`legacyData.legacyId` is the id).
    pub fn parse(name: &str) -> Result<Self, QueryError> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("legacyData.legacyId") {
            return Ok(Property::Id);
        }
        Property::ALL
            .into_iter()
            .find(|p| p.wire_name().eq_ignore_ascii_case(name))
            .ok_or_else(|| QueryError::UnknownProperty(name.to_owned()))
    }

    /// "id, name, …", for error messages.
    fn known() -> String {
        let names: Vec<&str> = Property::ALL.iter().map(|p| p.wire_name()).collect();
        names.join(", ")
    }
}

/// A stored column a condition can test. `assetType.name` and `status.name` have no
/// column: they are resolved into conditions on [`Column::AssetType`] and [`Column::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Name,
    CustomerKey,
    ObjectId,
    Description,
    /// The asset type id.
    AssetType,
    /// The status id.
    Status,
    CreatedDate,
    ModifiedDate,
}

/// A value to compare a column with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i64),
    /// Compared ignoring ASCII case.
    Text(String),
    Time(OffsetDateTime),
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// How a text column must match a fragment, ignoring ASCII case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    Contains,
    StartsWith,
}

/// A condition on assets, ready to be translated to SQL over known columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        column: Column,
        comparison: Comparison,
        value: Value,
    },
    /// `column` holds `fragment` (or starts with it), ignoring ASCII case.
    Match {
        column: Column,
        how: TextMatch,
        fragment: String,
    },
    /// `column` equals one of `values` (none: nothing matches).
    In {
        column: Column,
        values: Vec<Value>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

impl Filter {
    /// How many values the filter compares with.
    fn values(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Match { .. } => 1,
            Filter::In { values, .. } => values.len(),
            Filter::And(left, right) | Filter::Or(left, right) => left.values() + right.values(),
        }
    }

    /// The filter, unless it compares with more than [`MAX_VALUES`] values.
    pub(crate) fn bounded(self) -> Result<Self, QueryError> {
        if self.values() > MAX_VALUES {
            return Err(QueryError::TooLarge(MAX_VALUES));
        }
        Ok(self)
    }
}

/// One sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub property: Property,
    pub descending: bool,
}

/// An operator as clients name it: the `$filter` and the query-body spellings meet here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Compare(Comparison),
    /// `like`, `contains`, `mustContain`.
    Contains,
    StartsWith,
    In,
}

/// Why a query cannot be run. Messages are written for the API client.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("$filter: {message} at character {at}")]
    Syntax { at: usize, message: String },
    #[error("unknown property {0:?}; the properties are: {known}", known = Property::known())]
    UnknownProperty(String),
    #[error("unknown operator {given:?}; the operators are: {known}")]
    UnknownOperator { given: String, known: &'static str },
    #[error("{property}: {message}")]
    Value {
        property: &'static str,
        message: String,
    },
    #[error("unknown sort direction {0:?}; use asc or desc")]
    Direction(String),
    #[error("{0}")]
    Shape(String),
    #[error("the filter nests more than {0} levels deep")]
    TooDeep(usize),
    #[error("the filter compares with more than {0} values")]
    TooLarge(usize),
    #[error(transparent)]
    Paging(#[from] PagingError),
}

/// How deep parentheses and compound operands may nest.
pub const MAX_DEPTH: usize = 32;
/// How many values one filter may compare with (each is a bound SQL parameter).
pub const MAX_VALUES: usize = 1000;
