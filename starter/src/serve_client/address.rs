//! Which servers the load tester may send to: those on this machine only.
//!
//! A load test is traffic that a server did not ask for. Sent to a server of someone else, by a
//! typo in an address, it is an attack. The tester resolves the address it is given and refuses
//! it unless every address it resolves to is a loopback address (`127.0.0.0/8` or `::1`): the
//! traffic then never leaves the machine.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::{Error, Result};

/// The base URL (`http://127.0.0.1:7700`) of the server at `addr` (`HOST:PORT`, with or
/// without `http://` in front), after checking that it is on this machine.
///
/// # Errors
///
/// [`Error::NotLoopback`] when `addr` does not resolve, has no port, or resolves to any address
/// that is not a loopback one.
pub fn loopback_base_url(addr: &str) -> Result<String> {
    let host_port = addr.strip_prefix("http://").unwrap_or(addr);
    let host_port = host_port.strip_suffix('/').unwrap_or(host_port);
    let refused = |reason: String| Error::NotLoopback {
        addr: addr.to_string(),
        reason,
    };
    if host_port.contains('/') || host_port.is_empty() {
        return Err(refused("expected HOST:PORT".to_string()));
    }
    let resolved: Vec<SocketAddr> = host_port
        .to_socket_addrs()
        .map_err(|e| refused(format!("cannot resolve it ({e})")))?
        .collect();
    let first = *resolved
        .first()
        .ok_or_else(|| refused("it resolves to no address".to_string()))?;
    if let Some(outside) = resolved.iter().find(|a| !a.ip().is_loopback()) {
        return Err(refused(format!(
            "it resolves to {outside}, not a loopback address"
        )));
    }
    Ok(format!("http://{first}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_accepted() {
        assert_eq!(
            loopback_base_url("127.0.0.1:7700").expect("loopback"),
            "http://127.0.0.1:7700"
        );
        assert_eq!(
            loopback_base_url("http://127.0.0.2:80/").expect("loopback"),
            "http://127.0.0.2:80"
        );
        assert_eq!(
            loopback_base_url("[::1]:7700").expect("loopback"),
            "http://[::1]:7700"
        );
        assert!(loopback_base_url("localhost:7700").is_ok());
    }

    #[test]
    fn other_addresses_are_refused_before_any_traffic() {
        for addr in [
            "10.0.0.1:7700",
            "192.168.1.10:80",
            "8.8.8.8:53",
            "0.0.0.0:7700",
            "127.0.0.1",
            "127.0.0.1:7700/search",
            "",
        ] {
            let error = loopback_base_url(addr).expect_err(addr);
            assert!(
                matches!(error, Error::NotLoopback { .. }),
                "{addr}: {error}"
            );
        }
    }
}
