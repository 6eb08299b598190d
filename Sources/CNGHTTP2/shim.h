// The C surface of libnghttp2 that the Swift session wrapper uses.
// nghttp2's function-like and cast macros are not imported into Swift; the constants the wrapper needs are
// restated here as plain values.
#ifndef ETCD_SWIFT_CNGHTTP2_SHIM_H
#define ETCD_SWIFT_CNGHTTP2_SHIM_H

#include <nghttp2/nghttp2.h>

/// The largest flow-control window HTTP/2 allows (2^31 - 1).
static const int32_t cnghttp2_max_window_size = 2147483647;

/// Reads the category of a HEADERS frame (response, push response, request or trailers).
static inline nghttp2_headers_category cnghttp2_headers_category(const nghttp2_frame *frame) {
  return frame->headers.cat;
}

/// Reads the last stream id of a GOAWAY frame.
static inline int32_t cnghttp2_goaway_last_stream_id(const nghttp2_frame *frame) {
  return frame->goaway.last_stream_id;
}

/// Reads the error code of a GOAWAY frame.
static inline uint32_t cnghttp2_goaway_error_code(const nghttp2_frame *frame) {
  return frame->goaway.error_code;
}

#endif
