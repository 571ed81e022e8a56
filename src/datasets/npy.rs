//! .npy files (being written).
