// What the configuration names on disk. Run by `check-config` and at start-up, so an
// operator learns of a wrong path or a mismatched key before a partner does.
#include "conf/config.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace fedgate::conf {
namespace {

constexpr std::size_t min_secret_bytes = 16;

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
struct x509_free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

std::string quoted(std::filesystem::path const& p)
{
    return "\"" + p.string() + "\"";
}

/// Opens `f` for reading or reports why not.
file_ptr open_file(file_setting const& f, std::string_view what, diagnostics& out)
{
    file_ptr file{std::fopen(f.path.c_str(), "rb")};
    if (!file)
        out.error(f.line, "cannot read " + std::string{what} + " " + quoted(f.path) + ": " + std::strerror(errno) +
                              "; check the path (relative paths start at the configuration file's folder)");
    return file;
}

void check_secret(file_setting const& f, std::string_view what, diagnostics& out)
{
    if (f.empty())
        return;
    if (!open_file(f, what, out))
        return;
    auto secret = read_secret(f).value_or("");
    if (secret.size() < min_secret_bytes) {
        out.error(f.line, std::string{what} + " " + quoted(f.path) + " holds " + std::to_string(secret.size()) +
                              " characters, fewer than 16; create a strong one with: head -c 32 /dev/urandom | "
                              "base64 > " + f.path.string());
        return;
    }
    struct stat st{};
    if (::stat(f.path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        out.warning(f.line, std::string{what} + " " + quoted(f.path) + " can be read by other users; run: chmod 600 " +
                                f.path.string());
}

void check_conninfo_file(store_settings const& s, diagnostics& out)
{
    auto const& f = s.conninfo_file;
    if (s.backend != store_settings::kind::postgresql || f.empty() || !open_file(f, "conninfo file", out))
        return;
    if (read_secret(f).value_or("").empty()) {
        out.error(f.line, "conninfo file " + quoted(f.path) + " is empty; write the libpq connection string in it, "
                          "such as host=db.example.org dbname=fedgate user=fedgate password=...");
        return;
    }
    struct stat st{};
    if (::stat(f.path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        out.warning(f.line, "conninfo file " + quoted(f.path) + " can be read by other users, and it may hold the "
                            "database password; run: chmod 600 " + f.path.string());
}

/// The first PEM object in `f` (a `kind` file of local domain `domain`), read with
/// `read` (PEM_read_X509, PEM_read_PrivateKey); when there is none, an error that
/// says what it should have held.
template <class Owner, class Read>
Owner read_pem(file_setting const& f, std::string const& kind, std::string const& domain, Read read,
               std::string_view missing, diagnostics& out)
{
    auto file = open_file(f, kind, out);
    if (!file)
        return nullptr;
    Owner object{read(file.get(), nullptr, nullptr, nullptr)};
    if (!object)
        out.error(f.line, kind + " " + quoted(f.path) + " of local domain \"" + domain + "\" holds no " +
                              std::string{missing});
    return object;
}

x509_ptr read_certificate(file_setting const& f, std::string const& domain, diagnostics& out)
{
    return read_pem<x509_ptr>(f, "certificate file", domain, PEM_read_X509,
                              "PEM certificate; it must hold the domain's certificate (then its chain) in PEM form",
                              out);
}

pkey_ptr read_key(file_setting const& f, std::string const& domain, diagnostics& out)
{
    return read_pem<pkey_ptr>(f, "key file", domain, PEM_read_PrivateKey, "unencrypted PEM private key", out);
}

void check_certificate_use(X509* cert, local_domain const& d, diagnostics& out)
{
    std::string const& name = d.name;
    if (X509_check_host(cert, name.data(), name.size(), 0, nullptr) != 1)
        out.warning(d.certificate.line, "certificate " + quoted(d.certificate.path) + " does not name \"" + name +
                                            "\"; partners that verify certificates (SASL EXTERNAL, XEP-0178) will "
                                            "refuse it");
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
        out.warning(d.certificate.line, "certificate " + quoted(d.certificate.path) + " of \"" + name +
                                            "\" has expired; renew it");
    else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
        out.warning(d.certificate.line, "certificate " + quoted(d.certificate.path) + " of \"" + name +
                                            "\" is not valid yet; check the clock");
}

void check_local_domain(local_domain const& d, diagnostics& out)
{
    auto cert = read_certificate(d.certificate, d.name, out);
    auto key = read_key(d.key, d.name, out);
    if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1)
        out.error(d.key.line, "key file " + quoted(d.key.path) + " does not match certificate " +
                                  quoted(d.certificate.path) + " of local domain \"" + d.name +
                                  "\"; use the private key the certificate was issued for");
    if (cert)
        check_certificate_use(cert.get(), d, out);
}

void check_ca(tls_settings const& tls, diagnostics& out)
{
    if (!tls.ca_file.empty()) {
        if (auto file = open_file(tls.ca_file, "CA file", out)) {
            x509_ptr first{PEM_read_X509(file.get(), nullptr, nullptr, nullptr)};
            if (!first)
                out.error(tls.ca_file.line, "CA file " + quoted(tls.ca_file.path) +
                                                " holds no PEM certificate; it must hold the trusted CA "
                                                "certificates in PEM form");
        }
    }
    if (!tls.ca_path.empty() && !std::filesystem::is_directory(tls.ca_path.path))
        out.error(tls.ca_path.line, "CA path " + quoted(tls.ca_path.path) +
                                        " is not a directory; name a folder of hashed CA certificates "
                                        "(such as /etc/ssl/certs)");
}

/// The blocklist's own findings, at its own lines; a file that cannot be read
/// is reported at the configuration's line that names it.
void check_blocklist(blocklist_settings const& b, diagnostics& out)
{
    if (b.file.empty() || !open_file(b.file, "blocklist", out))
        return;
    for (auto& finding : read_blocklist(b.file.path).findings)
        out.add(std::move(finding));
}

}  // namespace

std::optional<std::string> read_secret(file_setting const& f)
{
    file_ptr file{std::fopen(f.path.c_str(), "rb")};
    if (!file)
        return std::nullopt;
    std::string secret;
    char buffer[512];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
        secret.append(buffer, n);
    // Editors and `base64` add a final newline; it is not part of the secret.
    auto const first = secret.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return std::string{};
    return secret.substr(first, secret.find_last_not_of(" \t\r\n") - first + 1);
}

/// The SQLite store's folder, as `run` will need it: there, a folder, and
/// writable by whoever runs the check (under systemd, ExecStartPre runs it as the
/// service's user, after StateDirectory= made the folder).
void check_state_dir(config const& cfg, diagnostics& out)
{
    if (cfg.store.backend != store_settings::kind::sqlite)
        return;
    auto const& dir = cfg.gateway.state_dir;
    std::string const what = "state_dir " + quoted(dir.path) + (dir.line == 0 ? " (the default)" : "");
    struct stat st{};
    if (::stat(dir.path.c_str(), &st) != 0) {
        out.error(dir.line, what + ": " + std::strerror(errno) + "; the relationship store lives there: create it for " +
                                "the user fedgate runs as (mkdir -m 750 " + dir.path.string() +
                                "; the systemd unit's StateDirectory= makes /var/lib/fedgate), or set state_dir in "
                                "[gateway]");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        out.error(dir.line, what + " is not a folder; name the folder for the relationship store");
        return;
    }
    if (::access(dir.path.c_str(), W_OK | X_OK) != 0) {
        out.error(dir.line, what + " is not writable by this user: " + std::strerror(errno) +
                                "; the relationship store lives there: give the user fedgate runs as write access "
                                "(chown), or check as that user");
        return;
    }
    auto const file = sqlite_store_file(cfg.gateway);
    if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), R_OK | W_OK) != 0)
        out.error(dir.line, "the relationship store " + quoted(file) + " is not readable and writable by this user: " +
                                std::strerror(errno) + "; chown it to the user fedgate runs as");
}

void check_files(config const& cfg, diagnostics& out)
{
    for (auto const& d : cfg.local_domains)
        check_local_domain(d, out);
    check_secret(cfg.gateway.dialback_secret_file, "dialback secret file", out);
    for (auto const& accepted : cfg.gateway.dialback_accepted_secret_files)
        check_secret(accepted, "accepted dialback secret file", out);
    check_secret(cfg.internal.secret_file,
                 cfg.internal.mode == internal_settings::link_mode::s2s ? "internal dialback secret file"
                                                                         : "component secret file",
                 out);
    check_ca(cfg.tls, out);
    check_conninfo_file(cfg.store, out);
    check_blocklist(cfg.blocklist, out);
    check_state_dir(cfg, out);
}

std::optional<std::string> store_conninfo(store_settings const& s)
{
    if (s.conninfo_file.empty())
        return s.conninfo;
    return read_secret(s.conninfo_file);
}

}  // namespace fedgate::conf
