#include "negotiation/sasl_external.hpp"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace fedgate::negotiation {
namespace {

// Cyrus stores every callback as int (*)(void); going through void (*)() is the
// cast GCC accepts between unrelated function types.
template <class F>
int (*as_callback(F* f))()
{
    return reinterpret_cast<int (*)()>(reinterpret_cast<void (*)()>(f));
}

// The only mechanism fedgate uses; limiting the list also keeps plugins out.
int get_option(void*, char const*, char const* option, char const** result, unsigned* len)
{
    if (std::strcmp(option, "mech_list") == 0) {
        *result = "EXTERNAL";
        if (len)
            *len = 8;
        return SASL_OK;
    }
    return SASL_FAIL;  // every other option: the library default
}

// A folder with no plugins and no configuration, so that nothing under /etc/sasl2
// or the system plugin folder changes fedgate's behaviour.
int get_path(void*, char const** path)
{
    *path = "/nonexistent/fedgate-sasl";
    return SASL_OK;
}

int get_conf_path(void*, char** path)
{
    *path = const_cast<char*>("/nonexistent/fedgate-sasl");
    return SASL_OK;
}

// XEP-0178: the authzid, when given, must be exactly the verified domain; no proxying.
int proxy_policy(sasl_conn_t* conn, void*, char const* requested, unsigned requested_len, char const* auth_identity,
                 unsigned auth_len, char const*, unsigned, propctx*)
{
    if (requested_len == auth_len && std::memcmp(requested, auth_identity, auth_len) == 0)
        return SASL_OK;
    sasl_seterror(conn, 0, "authzid is not the domain the certificate was verified for");
    return SASL_NOAUTHZ;
}

// Identities are domains, compared exactly; Cyrus's default would append a realm.
int canon_user(sasl_conn_t*, void*, char const* in, unsigned in_len, unsigned, char const*, char* out,
               unsigned out_max, unsigned* out_len)
{
    if (in_len >= out_max)
        return SASL_BUFOVER;
    std::memcpy(out, in, in_len);
    out[in_len] = '\0';
    *out_len = in_len;
    return SASL_OK;
}

sasl_callback_t const global_callbacks[] = {
    {SASL_CB_GETOPT, as_callback(&get_option), nullptr},
    {SASL_CB_GETPATH, as_callback(&get_path), nullptr},
    {SASL_CB_GETCONFPATH, as_callback(&get_conf_path), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

sasl_callback_t const server_callbacks[] = {
    {SASL_CB_PROXY_POLICY, as_callback(&proxy_policy), nullptr},
    {SASL_CB_CANON_USER, as_callback(&canon_user), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

// Cyrus looks up auxiliary properties of every identity it canonicalises and fails
// with SASL_NOMECH when no auxprop plugin is loaded. Domains have no stored
// properties, so fedgate registers one that finds nothing, successfully.
int no_properties(void*, sasl_server_params_t*, unsigned, char const*, unsigned)
{
    return SASL_OK;
}

int no_properties_init(sasl_utils_t const*, int max_version, int* out_version, sasl_auxprop_plug_t** plug,
                       char const*)
{
    if (max_version < SASL_AUXPROP_PLUG_VERSION)
        return SASL_BADVERS;
    static char name[] = "fedgate";
    static sasl_auxprop_plug_t plugin{0, 0, nullptr, nullptr, &no_properties, name, nullptr};
    *out_version = SASL_AUXPROP_PLUG_VERSION;
    *plug = &plugin;
    return SASL_OK;
}

void initialise_once()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (sasl_server_init(global_callbacks, "fedgate") != SASL_OK)
            throw std::runtime_error{"Cyrus SASL server initialisation failed"};
        if (sasl_auxprop_add_plugin("fedgate", &no_properties_init) != SASL_OK)
            throw std::runtime_error{"Cyrus SASL auxprop registration failed"};
        if (sasl_client_init(global_callbacks) != SASL_OK)
            throw std::runtime_error{"Cyrus SASL client initialisation failed"};
    });
}

struct connection {
    sasl_conn_t* conn = nullptr;
    ~connection() { sasl_dispose(&conn); }
};

sasl_condition condition_of(int rc)
{
    switch (rc) {
    case SASL_NOAUTHZ:
        return sasl_condition::invalid_authzid;
    case SASL_BADAUTH:
    case SASL_NOUSER:
        return sasl_condition::not_authorized;
    case SASL_NOMECH:
        return sasl_condition::invalid_mechanism;
    case SASL_BADPROT:
    case SASL_CONTINUE:
        return sasl_condition::malformed_request;
    default:
        return sasl_condition::temporary_auth_failure;
    }
}

/// Cyrus SASL's shared state has no locks of its own (its default mutex
/// functions do nothing), and sessions run on several threads (worker_threads):
/// one exchange at a time, once per negotiation.
std::mutex cyrus_exchanges;

class cyrus_server final : public sasl_server {
public:
    sasl_result authenticate_external(std::string_view authzid, std::string_view verified_domain) override
    {
        if (verified_domain.empty())
            return {sasl_condition::not_authorized, {}, "no certificate was verified for the peer"};
        std::lock_guard const lock{cyrus_exchanges};
        connection c;
        std::string const domain{verified_domain};
        // Without a server name, Cyrus looks the host's own name up (uname, then
        // /etc/hosts or DNS) for every connection; EXTERNAL never uses it.
        int rc = sasl_server_new("xmpp", "fedgate", nullptr, nullptr, nullptr, server_callbacks, 0, &c.conn);
        if (rc == SASL_OK)
            rc = sasl_setprop(c.conn, SASL_AUTH_EXTERNAL, domain.c_str());
        if (rc != SASL_OK)
            return {sasl_condition::temporary_auth_failure, {}, sasl_errstring(rc, nullptr, nullptr)};

        // A non-null pointer of length 0 is an empty initial response ("="), which
        // EXTERNAL reads as "authorize as the authenticated identity".
        char const* out = nullptr;
        unsigned out_len = 0;
        rc = sasl_server_start(c.conn, "EXTERNAL", authzid.empty() ? "" : authzid.data(),
                               static_cast<unsigned>(authzid.size()), &out, &out_len);
        if (rc != SASL_OK)
            return {condition_of(rc), {}, sasl_errdetail(c.conn)};
        void const* user = nullptr;
        if (sasl_getprop(c.conn, SASL_USERNAME, &user) != SASL_OK || !user)
            return {sasl_condition::temporary_auth_failure, {}, "no authorized identity"};
        return {std::nullopt, static_cast<char const*>(user), {}};
    }
};

struct client_context {
    std::string authzid;
};

int client_user(void* context, int id, char const** result, unsigned* len)
{
    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
        return SASL_BADPARAM;
    auto const* ctx = static_cast<client_context const*>(context);
    *result = ctx->authzid.c_str();
    if (len)
        *len = static_cast<unsigned>(ctx->authzid.size());
    return SASL_OK;
}

class cyrus_client final : public sasl_client {
public:
    std::string external_initial_response(std::string_view our_domain, std::string_view peer_domain) override
    {
        client_context ctx{std::string{our_domain}};
        sasl_callback_t const callbacks[] = {
            {SASL_CB_USER, as_callback(&client_user), &ctx},
            {SASL_CB_LIST_END, nullptr, nullptr},
        };
        std::lock_guard const lock{cyrus_exchanges};
        connection c;
        std::string const peer{peer_domain};
        int rc = sasl_client_new("xmpp", peer.c_str(), nullptr, nullptr, callbacks, 0, &c.conn);
        if (rc == SASL_OK)
            rc = sasl_setprop(c.conn, SASL_AUTH_EXTERNAL, ctx.authzid.c_str());
        char const* out = nullptr;
        unsigned out_len = 0;
        char const* mechanism = nullptr;
        if (rc == SASL_OK)
            rc = sasl_client_start(c.conn, "EXTERNAL", nullptr, &out, &out_len, &mechanism);
        if (rc != SASL_OK && rc != SASL_CONTINUE)
            throw std::runtime_error{std::string{"Cyrus SASL EXTERNAL client: "} + sasl_errstring(rc, nullptr, nullptr)};
        return std::string{out ? out : "", out_len};
    }
};

}  // namespace

std::string_view wire_name(sasl_condition c) noexcept
{
    switch (c) {
    case sasl_condition::aborted:
        return "aborted";
    case sasl_condition::encryption_required:
        return "encryption-required";
    case sasl_condition::incorrect_encoding:
        return "incorrect-encoding";
    case sasl_condition::invalid_authzid:
        return "invalid-authzid";
    case sasl_condition::invalid_mechanism:
        return "invalid-mechanism";
    case sasl_condition::malformed_request:
        return "malformed-request";
    case sasl_condition::not_authorized:
        return "not-authorized";
    case sasl_condition::temporary_auth_failure:
        return "temporary-auth-failure";
    }
    return "undefined-condition";
}

std::unique_ptr<sasl_server> make_cyrus_sasl_server()
{
    initialise_once();
    return std::make_unique<cyrus_server>();
}

std::unique_ptr<sasl_client> make_cyrus_sasl_client()
{
    initialise_once();
    return std::make_unique<cyrus_client>();
}

}  // namespace fedgate::negotiation
