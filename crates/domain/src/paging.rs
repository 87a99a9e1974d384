//! Paging as the APIs take it: `page` from 1 and a bounded page size.

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PagingError {
    #[error("page must be a whole number from 1, got {0:?}")]
    Page(String),
    #[error("pageSize must be a whole number from 1 to {max}, got {value:?}")]
    PageSize { value: String, max: u32 },
}

impl PageRequest {
    /// Parses optional `page` and `pageSize` texts; absent means page 1 and `default`.
    pub fn parse(
        page: Option<&str>,
        page_size: Option<&str>,
        default: u32,
        max: u32,
    ) -> Result<Self, PagingError> {
        let page = match page.map(str::trim) {
            None | Some("") => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(PagingError::Page(text.to_owned())),
            },
        };
        let page_size = match page_size.map(str::trim) {
            None | Some("") => default,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    return Err(PagingError::PageSize {
                        value: text.to_owned(),
                        max,
                    });
                }
            },
        };
        Ok(PageRequest { page, page_size })
    }

    /// Rows to skip.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.page_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_values_mean_the_first_page_of_the_default_size() {
        assert_eq!(
            PageRequest::parse(None, None, 50, 500),
            Ok(PageRequest {
                page: 1,
                page_size: 50
            })
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(PageRequest::parse(Some("0"), None, 50, 500).is_err());
        assert!(PageRequest::parse(Some("x"), None, 50, 500).is_err());
        assert!(PageRequest::parse(None, Some("0"), 50, 500).is_err());
        assert!(PageRequest::parse(None, Some("501"), 50, 500).is_err());
        assert_eq!(
            PageRequest::parse(Some("3"), Some("10"), 50, 500)
                .unwrap()
                .offset(),
            20
        );
    }
}
