//! Product quantization (being written).
