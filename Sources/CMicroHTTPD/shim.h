// The C surface of libmicrohttpd (and of GnuTLS, which it serves HTTPS with) that the Swift server
// wrapper uses. MHD_start_daemon, MHD_get_daemon_info and MHD_get_connection_info are variadic and so
// are not imported into Swift: the static inline wrappers below call them with fixed arguments
// (options travel as an MHD_OPTION_ARRAY).
#ifndef ETCD_SWIFT_CMICROHTTPD_SHIM_H
#define ETCD_SWIFT_CMICROHTTPD_SHIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

// How an HTTPS daemon treats client certificates (the client_certificates argument of
// cmhd_start_daemon).
#define CMHD_CLIENT_CERTIFICATES_NONE 0
#define CMHD_CLIENT_CERTIFICATES_VERIFY_IF_GIVEN 1
#define CMHD_CLIENT_CERTIFICATES_REQUIRE_AND_VERIFY 2

// Results of cmhd_tls_check_key_pair.
#define CMHD_TLS_KEY_PAIR_OK 0
#define CMHD_TLS_BAD_CERTIFICATE 1
#define CMHD_TLS_BAD_KEY 2
#define CMHD_TLS_KEY_MISMATCH 3

/// Verifies the peer's certificate chain against the trust list libmicrohttpd loaded from
/// MHD_OPTION_HTTPS_MEM_TRUST, requiring the TLS client-authentication key purpose when the
/// certificate names key purposes. Returns 0 when it verifies, or when the client sent none and
/// `required` is 0; a negative GnuTLS error code otherwise.
static inline int cmhd_verify_client_certificate(gnutls_session_t session, int required) {
  unsigned int count = 0;
  if (gnutls_certificate_get_peers(session, &count) == NULL || count == 0) {
    return required ? GNUTLS_E_NO_CERTIFICATE_FOUND : 0;
  }
  gnutls_typed_vdata_st purpose;
  purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
  purpose.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT;
  purpose.size = 0;
  unsigned int status = 0;
  int result = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
  if (result < 0) return result;
  return status == 0 ? 0 : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

/// GnuTLS verify functions, called during the handshake once the client's Certificate message
/// arrived: a non-zero result aborts the handshake.
static inline int cmhd_verify_required_client_certificate(gnutls_session_t session) {
  return cmhd_verify_client_certificate(session, 1);
}
static inline int cmhd_verify_optional_client_certificate(gnutls_session_t session) {
  return cmhd_verify_client_certificate(session, 0);
}

/// Sets up a new HTTPS connection's TLS session for the client-certificate mode (a
/// CMHD_CLIENT_CERTIFICATES_* value other than NONE); called from the connection-started
/// notification. libmicrohttpd creates the TLS session before it announces the connection and starts
/// the handshake only afterwards, so the session still takes these settings: a certificate is
/// requested (required, for CMHD_CLIENT_CERTIFICATES_REQUIRE_AND_VERIFY) instead of merely requested
/// and never checked, and the handshake fails when it does not verify.
static inline void cmhd_configure_client_certificates(struct MHD_Connection *connection, int mode) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == NULL || info->tls_session == NULL) return;
  gnutls_session_t session = (gnutls_session_t)info->tls_session;
  if (mode == CMHD_CLIENT_CERTIFICATES_REQUIRE_AND_VERIFY) {
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_function(session, cmhd_verify_required_client_certificate);
  } else {
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
    gnutls_session_set_verify_function(session, cmhd_verify_optional_client_certificate);
  }
}

/// Checks a request's connection against the client-certificate policy once more (the handshake
/// already enforced it): 0 when it complies, a negative GnuTLS error code otherwise (also when the
/// connection has no TLS session).
static inline int cmhd_check_client_certificate(struct MHD_Connection *connection, int mode) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == NULL || info->tls_session == NULL) return GNUTLS_E_INVALID_SESSION;
  return cmhd_verify_client_certificate((gnutls_session_t)info->tls_session,
                                        mode == CMHD_CLIENT_CERTIFICATES_REQUIRE_AND_VERIFY);
}

/// Starts a daemon with the given flags, port, request handler, connection and completion
/// notifications and URI-log callback (all called with handler_context) and
/// MHD_OPTION_END-terminated options. Besides telling that a request line arrived, the URI-log
/// callback makes libmicrohttpd report the request to the completion notification from then on, so
/// the notification also sees requests that libmicrohttpd answers itself (431 for a head too large)
/// before the handler is called; it must return NULL, which leaves the request context to the
/// handler.
static inline struct MHD_Daemon *cmhd_start_daemon(
    unsigned int flags, uint16_t port, MHD_AccessHandlerCallback handler, void *handler_context,
    MHD_NotifyConnectionCallback notify_connection, MHD_RequestCompletedCallback notify_completed,
    void *(*request_line_received)(void *context, const char *uri, struct MHD_Connection *connection),
    const struct MHD_OptionItem *options) {
  return MHD_start_daemon(flags, port, NULL, NULL, handler, handler_context,
                          MHD_OPTION_NOTIFY_CONNECTION, notify_connection, handler_context,
                          MHD_OPTION_NOTIFY_COMPLETED, notify_completed, handler_context,
                          MHD_OPTION_URI_LOG_CALLBACK, request_line_received, handler_context,
                          MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// Returns a connection's socket, or -1 if it is unknown.
static inline int cmhd_connection_socket(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info == NULL ? -1 : (int)info->connect_fd;
}

/// Writes a connection's client address (IPv4 or IPv6, without port) as NUL-terminated text into
/// `text` of `size` bytes (INET6_ADDRSTRLEN fits any). Returns 0, or -1 if it is unknown.
static inline int cmhd_connection_client_address(struct MHD_Connection *connection, char *text,
                                                 size_t size) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == NULL || info->client_addr == NULL) return -1;
  const struct sockaddr *address = info->client_addr;
  const void *bytes = NULL;
  if (address->sa_family == AF_INET) {
    bytes = &((const struct sockaddr_in *)(const void *)address)->sin_addr;
  } else if (address->sa_family == AF_INET6) {
    bytes = &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr;
  } else {
    return -1;
  }
  return inet_ntop(address->sa_family, bytes, text, (socklen_t)size) == NULL ? -1 : 0;
}

/// Returns the HTTP status of the response queued on a connection, or 0 if none is.
static inline int cmhd_connection_http_status(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS);
  return info == NULL ? 0 : (int)info->http_status;
}

/// Returns the port the daemon's listening socket is bound to, or 0 if it is unknown.
static inline uint16_t cmhd_daemon_bound_port(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info == NULL ? 0 : info->port;
}

/// Returns the number of certificates in a NUL-terminated PEM bundle, or a negative GnuTLS error
/// code when it holds none or one does not parse.
static inline int cmhd_tls_certificate_count(const char *pem) {
  gnutls_datum_t data;
  data.data = (unsigned char *)pem;
  data.size = (unsigned int)strlen(pem);
  gnutls_x509_crt_t *certificates = NULL;
  unsigned int count = 0;
  int result = gnutls_x509_crt_list_import2(&certificates, &count, &data, GNUTLS_X509_FMT_PEM, 0);
  if (result < 0) return result;
  for (unsigned int index = 0; index < count; index++) gnutls_x509_crt_deinit(certificates[index]);
  gnutls_free(certificates);
  return count == 0 ? GNUTLS_E_NO_CERTIFICATE_FOUND : (int)count;
}

/// Checks that a NUL-terminated PEM certificate chain and private key parse and belong together, as
/// libmicrohttpd will load them. Returns one of the CMHD_TLS_* results; for a failure, stores the
/// GnuTLS error code in *error.
static inline int cmhd_tls_check_key_pair(const char *certificate, const char *key, int *error) {
  int count = cmhd_tls_certificate_count(certificate);
  if (count < 0) {
    *error = count;
    return CMHD_TLS_BAD_CERTIFICATE;
  }
  gnutls_datum_t key_data;
  key_data.data = (unsigned char *)key;
  key_data.size = (unsigned int)strlen(key);
  gnutls_privkey_t private_key = NULL;
  int result = gnutls_privkey_init(&private_key);
  if (result >= 0) {
    result = gnutls_privkey_import_x509_raw(private_key, &key_data, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_privkey_deinit(private_key);
  }
  if (result < 0) {
    *error = result;
    return CMHD_TLS_BAD_KEY;
  }
  gnutls_datum_t certificate_data;
  certificate_data.data = (unsigned char *)certificate;
  certificate_data.size = (unsigned int)strlen(certificate);
  gnutls_certificate_credentials_t credentials = NULL;
  result = gnutls_certificate_allocate_credentials(&credentials);
  if (result >= 0) {
    result = gnutls_certificate_set_x509_key_mem2(credentials, &certificate_data, &key_data,
                                                  GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(credentials);
  }
  if (result < 0) {
    *error = result;
    return CMHD_TLS_KEY_MISMATCH;
  }
  return CMHD_TLS_KEY_PAIR_OK;
}

#endif
