/*
 * tls.c -- the server's TLS context: TLS 1.2 and 1.3 only, forward-secret
 * ciphers, no renegotiation, no compression, optional client certificates.
 * SIGHUP builds a new context from the files; if that fails the old one is
 * kept. Connections hold a reference to the context they started with.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rosterd.h"

#define TLS_SEND_FRAGMENT 4096 /* plaintext bytes per record, at most */

static SSL_CTX *tls_ctx;

static void
tls_errors(char *err, size_t errlen, const char *what)
{
	unsigned long e;
	char	      buf[256] = "";

	if ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* Accept any client certificate during the handshake; whether it logs a
 * user in is decided afterwards from the verification result, so that a
 * certificate from another CA is merely not a login. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	return (1);
}

static SSL_CTX *
tls_make(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	STACK_OF(X509_NAME) * names;
	static const unsigned char sid[] = "rosterd";

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_errors(err, errlen, "SSL_CTX_new");
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* An idle connection holds no record buffers; and records of at most
	 * TLS_SEND_FRAGMENT bytes make the write buffer a connection takes
	 * for each flight a quarter of the 16 kB+ default: in a burst of
	 * handshakes those buffers sit between the long-lived objects of the
	 * connections, and leave holes that stay resident after they end
	 * (tests/bench/idle: 22.6 -> 20.0 kB of RSS per idle connection; with
	 * 2 kB records 21.5, with 8 kB 22.6: 4 kB is the one that pays). */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_max_send_fragment(ctx, TLS_SEND_FRAGMENT);
	/* One read per segment, not two per record (its 5-byte header, then
	 * its body): what is read past the record at hand waits in OpenSSL,
	 * which conn.c reads on without a socket event (conn_read_buffered).
	 * The buffer is the one OpenSSL takes for a record anyway, still
	 * released while the connection is idle. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_set_cipher_list(ctx,
		"ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1") != 1) {
		tls_errors(err, errlen, "cipher list");
		goto fail;
	}
	SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
	if (cfg->cert == NULL || cfg->key == NULL) {
		snprintf(err, errlen, "cert and key must be configured");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		tls_errors(err, errlen, cfg->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1) {
		tls_errors(err, errlen, cfg->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_errors(err, errlen, "key does not match certificate");
		goto fail;
	}
	if (cfg->client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->client_ca, NULL) !=
		    1) {
			tls_errors(err, errlen, cfg->client_ca);
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(cfg->client_ca)) != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_cb);
		SSL_CTX_set_verify_depth(ctx, 4);
	}
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

int
tls_init(const struct config *cfg, char *err, size_t errlen)
{
	if ((tls_ctx = tls_make(cfg, err, errlen)) == NULL)
		return (-1);
	return (0);
}

/* Build a new context from the configured files; keep the old on failure. */
int
tls_reload(const struct config *cfg)
{
	SSL_CTX *ctx;
	char	 err[512];

	if ((ctx = tls_make(cfg, err, sizeof err)) == NULL) {
		log_error("tls reload failed, keeping the old certificate: %s",
		    err);
		return (-1);
	}
	SSL_CTX_free(tls_ctx); /* live connections keep their reference */
	tls_ctx = ctx;
	log_notice("tls reloaded cert=%s", cfg->cert);
	return (0);
}

SSL *
tls_new(void)
{
	return (SSL_new(tls_ctx));
}

/*
 * The user named by a verified client certificate's CN, or NULL. The
 * subject must hold exactly one CN, and it must be a user code as it
 * stands: a CN with a NUL ("admin\0.evil"), or too long, or holding
 * anything a code may not, names no one (it is never cut to fit).
 */
char *
tls_peer_user(SSL *ssl)
{
	X509		*cert;
	X509_NAME	*name;
	X509_NAME_ENTRY *e;
	ASN1_STRING	*v;
	unsigned char	*utf8 = NULL;
	char		*user = NULL;
	int		 i, len;

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return (NULL);
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return (NULL);
	name = X509_get_subject_name(cert);
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		goto out; /* none, or more than one */
	if ((e = X509_NAME_get_entry(name, i)) == NULL ||
	    (v = X509_NAME_ENTRY_get_data(e)) == NULL)
		goto out;
	if ((len = ASN1_STRING_to_UTF8(&utf8, v)) <= 0 ||
	    len > PROTO_MAX_CODE || memchr(utf8, '\0', (size_t)len) != NULL ||
	    !proto_valid_code((char *)utf8, (size_t)len))
		goto out;
	user = strndup((char *)utf8, (size_t)len);
out:
	OPENSSL_free(utf8);
	X509_free(cert);
	return (user);
}

void
tls_shutdown(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}
