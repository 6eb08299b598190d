// The C surface of zlib used for gzip-encoding /metrics responses (and, in tests, decoding them).
// deflateInit2 and inflateInit2 are function-like macros, which Swift does not import: they are restated
// here as static inline functions.
#ifndef ETCD_SWIFT_CZLIB_SHIM_H
#define ETCD_SWIFT_CZLIB_SHIM_H

#include <zlib.h>

/// windowBits for deflateInit2/inflateInit2 that selects the gzip wrapper (15 + 16).
static const int czlib_gzip_window_bits = 31;

/// deflateInit2 with the gzip wrapper, 8 as memLevel and the default strategy.
static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
  return deflateInit2(stream, level, Z_DEFLATED, czlib_gzip_window_bits, 8, Z_DEFAULT_STRATEGY);
}

/// inflateInit2 that accepts the gzip wrapper only.
static inline int czlib_inflate_init_gzip(z_streamp stream) {
  return inflateInit2(stream, czlib_gzip_window_bits);
}

#endif
