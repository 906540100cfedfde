// OPA bundles: a gzip'd tar holding `.manifest`, `*.rego` modules, `data.json` and
// `data.yaml` documents (data at the directory's path) and, when signed, `.signatures.json`
// (one JWT whose payload lists every file with its hash); or, as a delta bundle, `.manifest`
// and `patch.json`. Reading, verifying and building them; fetching them over
// HTTP is bundle_fetch.h. No I/O here but the files `build_bundle` reads.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policy/engine.h"
#include "policy/value.h"

namespace app {

struct BundleFile {
  std::string path;  // as in the archive, without a leading "/" or "./"
  std::string bytes;
};

// One operation of a delta bundle's patch.json ({"data": [{"op", "path", "value"}]}).
struct PatchOp {
  std::string op;                 // "upsert", "remove" or "replace"
  std::vector<std::string> path;  // the JSON pointer's segments ("/a/b" → {"a", "b"})
  policy::Value value;            // for upsert and replace
};

struct Bundle {
  std::string revision;            // .manifest "revision" ("" when absent)
  std::vector<std::string> roots;  // .manifest "roots" ({""} when absent: the whole tree)
  std::vector<policy::Module> modules;
  policy::Value data = policy::Value::empty_object();
  bool verified = false;  // a signature was checked against the configured key
  // A delta bundle (OPA's patch.json): only `patch` (and the manifest) is set; apply_delta
  // turns it into a full bundle on top of the active snapshot.
  bool delta = false;
  std::vector<PatchOp> patch;
};

// The snapshot `base` with the delta bundle `delta` applied: base's modules and roots,
// delta's revision, base's data patched in order (upsert creates missing objects on the way;
// replace and remove need the path to exist; "-" appends to an array). Every patched path
// must lie under base's roots.
base::Result<Bundle> apply_delta(const Bundle& base, const Bundle& delta);

// Signature verification: with an empty `key` bundles are not verified (a .signatures.json is
// ignored); otherwise a bundle without a valid signature is refused. `key` is a PEM public key
// or certificate (RS*, PS*, ES* tokens) or an HMAC secret (HS* tokens).
struct BundleVerification {
  std::string key;
  std::string scope;  // must equal the token's "scope" claim (OPA's keys.<id>.scope)
};

// The largest bundle accepted, uncompressed (OPA's default limit is 1 GiB; ours is smaller,
// policies and their data are held in memory twice while a new bundle compiles).
inline constexpr size_t kMaxBundleBytes = 64u << 20;

// Reads a gzip'd tar; refuses anything over `max_bytes` uncompressed, absolute or ".."
// paths, and corrupt archives.
base::Result<std::vector<BundleFile>> untar_gz(std::string_view archive,
                                               size_t max_bytes = kMaxBundleBytes);
// A gzip'd ustar archive of `files` (regular files, mode 0644, mtime 0: reproducible).
std::string tar_gz(const std::vector<BundleFile>& files);

// gzip of `bytes` (RFC 1952).
std::string gzip_bytes(std::string_view bytes);

// Reads a bundle; errors name the file ("bundle: data.json: ...").
base::Result<Bundle> read_bundle(std::string_view archive, const BundleVerification& verify);

// OPA's digest of one bundle file as hex (.manifest, data.json, data.yaml, patch.json and
// .signatures.json are hashed as canonical JSON with sorted keys, others byte for byte).
std::string bundle_file_digest(std::string_view path, std::string_view bytes);

// `edgeclass policy build`: the *.rego and data.json files under `dir` (tests *_test.rego
// included, as `opa build` does) and data.yaml files with a .manifest of `revision`; signed
// when `signing_key` is not empty, with `signing_alg` (OPA's default RS256): an HMAC secret for
// HS256/384/512, a PEM private key for RS*, PS* and ES*.
base::Result<std::string> build_bundle(const std::string& dir, std::string_view revision,
                                       std::string_view signing_key,
                                       std::string_view signing_alg = "HS256");

// OPA's digest input for a structured file: the JSON `text` with object keys sorted, compact,
// numbers spelled as in `text`, strings escaped as Go's encoder does; nullopt when `text` is
// not JSON.
std::optional<std::string> canonical_json(std::string_view text);

// YAML text (a data.yaml) as JSON, with OPA's YAML reading (the engine's yaml.unmarshal).
base::Result<boost::json::value> yaml_to_json(std::string_view text);

}  // namespace app
