//! Lists a page at a time: the answer `{"count","items","page","pageSize"}` and the
//! `page` and `pageSize` query parameters that choose the page.

use herald_domain::paging::PageRequest;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// One page of a list. (Keys declared in the order they are written: alphabetical.)
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// Items on all pages.
    pub count: i64,
    /// This page's items.
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: u32,
    /// Items per page.
    #[serde(rename = "pageSize")]
    pub page_size: u32,
}

impl<T> Page<T> {
    /// The page `request` asked for, of `count` items in all.
    pub fn new(count: i64, items: Vec<T>, request: PageRequest) -> Self {
        Page {
            count,
            items,
            page: request.page,
            page_size: request.page_size,
        }
    }
}

/// The page a list answers (names are case-insensitive and may start with `$`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // it only describes the parameters; `Params::page` reads them
pub struct Paging {
    /// Page number, from 1 (default 1). Also `$page`.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 500 (default 50). Also `pagesize`, `$pageSize`, `$pagesize`.
    #[param(rename = "pageSize", minimum = 1, maximum = 500)]
    page_size: Option<u32>,
}
