//! Refusing requests not addressed to this server by name (DNS rebinding) and control requests
//! sent by a web page (cross-site request forgery).
//!
//! A web page on `evil.example` can make the browser re-resolve its own name to 127.0.0.1 and
//! then read this server's answers as same-origin: the only trace is the `Host` header, which
//! still says `evil.example`. So every request must name the loopback address it reached
//! (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`, or the exact address served).

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode, Uri, header};

/// The `Host` values this server answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostGuard {
    allowed: Vec<String>,
    /// For messages: the address clients should use.
    served: String,
}

/// Why a request was refused, ready to be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl HostGuard {
    /// The guard for a server reached at `served` (`127.0.0.1:PORT` after a wildcard bind).
    pub(crate) fn new(served: SocketAddr) -> Self {
        let port = served.port();
        let mut allowed = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            served.to_string(),
        ];
        if port == 80 {
            // Clients leave the default port out of Host.
            allowed.extend(["127.0.0.1", "localhost", "[::1]"].map(str::to_owned));
            allowed.push(match served {
                SocketAddr::V4(v4) => v4.ip().to_string(),
                SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
            });
        }
        allowed.sort();
        allowed.dedup();
        Self {
            allowed,
            served: served.to_string(),
        }
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.allowed.contains(&host)
    }

    /// `Err` (421) when the request's `Host` (or absolute-form authority) is not this server's.
    pub(crate) fn check_host(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refused> {
        let host = headers.get(header::HOST).map(|v| v.to_str().unwrap_or("?"));
        let named = match (host, uri.authority()) {
            (Some(host), _) => host.to_owned(),
            (None, Some(authority)) => authority.as_str().to_owned(),
            (None, None) => String::new(),
        };
        let authority_ok = uri.authority().is_none_or(|a| self.allows(a.as_str()));
        if self.allows(&named) && authority_ok {
            return Ok(());
        }
        Err(Refused {
            status: StatusCode::MISDIRECTED_REQUEST,
            message: format!(
                "This server answers only requests addressed to its loopback address (Host \
                 {served}, 127.0.0.1, localhost or [::1] with port {port}); Host {named:?} was \
                 refused, as a web page rebinding its own name to this machine would be. Use \
                 http://{served}/.",
                served = self.served,
                port = self.served.rsplit(':').next().unwrap_or_default(),
            ),
        })
    }

    /// `Err` (403) when a control request comes from a web page of another origin: browsers
    /// send `Origin` (and `Sec-Fetch-Site`) with cross-site requests, even the simple POSTs that
    /// need no CORS preflight; test harnesses send neither.
    pub(crate) fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let cross_site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site" || site == "same-site");
        let foreign_origin = headers.get(header::ORIGIN).is_some_and(|origin| {
            let origin = origin.to_str().unwrap_or("?");
            origin
                .strip_prefix("http://")
                .is_none_or(|host| !self.allows(host))
        });
        if cross_site || foreign_origin {
            return Err(Refused {
                status: StatusCode::FORBIDDEN,
                message: "The test control API does not take requests from web pages of other \
                          origins. Send them from a test harness (no Origin header)."
                    .to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn loopback_names_with_the_served_port_pass_and_others_do_not() {
        let guard = HostGuard::new("127.0.0.1:4000".parse().unwrap());
        let uri = Uri::from_static("/3/image");
        for good in [
            "127.0.0.1:4000",
            "localhost:4000",
            "LOCALHOST:4000",
            "[::1]:4000",
        ] {
            let map = headers(&[("host", good)]);
            assert_eq!(guard.check_host(&map, &uri), Ok(()), "{good}");
        }
        for bad in [
            "evil.example",
            "evil.example:4000",
            "127.0.0.1:4001",
            "127.0.0.1",
        ] {
            let map = headers(&[("host", bad)]);
            let refused = guard.check_host(&map, &uri).unwrap_err();
            assert_eq!(refused.status, StatusCode::MISDIRECTED_REQUEST, "{bad}");
        }
        assert!(guard.check_host(&HeaderMap::new(), &uri).is_err());
        let absolute = Uri::from_static("http://evil.example/3/image");
        let map = headers(&[("host", "127.0.0.1:4000")]);
        assert!(guard.check_host(&map, &absolute).is_err());
    }

    #[test]
    fn only_pages_of_other_origins_are_refused_controls() {
        let guard = HostGuard::new("127.0.0.1:4000".parse().unwrap());
        assert!(guard.check_origin(&HeaderMap::new()).is_ok());
        let own = headers(&[("origin", "http://127.0.0.1:4000")]);
        assert!(guard.check_origin(&own).is_ok());
        let other = headers(&[("origin", "http://evil.example")]);
        assert_eq!(
            guard.check_origin(&other).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        let opaque = headers(&[("origin", "null")]);
        assert!(guard.check_origin(&opaque).is_err());
        let fetch = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(guard.check_origin(&fetch).is_err());
    }
}
