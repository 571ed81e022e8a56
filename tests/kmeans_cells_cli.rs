//! `main_kmeans_cells` refuses an image size outside 64..=8192 with clap's message, before any
//! work: 65536² pixels used to overflow the `u32` pixel count (a panic, exit 101).

use std::process::Command;

const CELLS: &str = env!("CARGO_BIN_EXE_main_kmeans_cells");

#[test]
fn an_image_size_outside_the_range_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let png = dir.path().join("cells.png");
    for size in ["65536", "8193", "63", "0", "-5", "4294967296"] {
        let output = Command::new(CELLS)
            .arg(format!("--size={size}"))
            .arg("--out")
            .arg(&png)
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs");
        let message = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--size {size}: {message}");
        assert!(
            message.contains("error:")
                && message.contains("--size")
                && message.contains("64..=8192"),
            "--size {size}: {message}"
        );
        assert!(!png.exists(), "--size {size}: nothing drawn");
    }
}
