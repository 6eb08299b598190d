// The C surface of libmicrohttpd that the Swift server wrapper uses.
// MHD_start_daemon and MHD_get_daemon_info are variadic and so are not imported into Swift: the static
// inline wrappers below call them with fixed arguments (options travel as an MHD_OPTION_ARRAY).
#ifndef ETCD_SWIFT_CMICROHTTPD_SHIM_H
#define ETCD_SWIFT_CMICROHTTPD_SHIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// Starts a daemon with the given flags, port, request handler and MHD_OPTION_END-terminated options.
static inline struct MHD_Daemon *cmhd_start_daemon(unsigned int flags, uint16_t port,
                                                   MHD_AccessHandlerCallback handler,
                                                   void *handler_context,
                                                   const struct MHD_OptionItem *options) {
  return MHD_start_daemon(flags, port, NULL, NULL, handler, handler_context,
                          MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// Returns the port the daemon's listening socket is bound to, or 0 if it is unknown.
static inline uint16_t cmhd_daemon_bound_port(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info == NULL ? 0 : info->port;
}

#endif
