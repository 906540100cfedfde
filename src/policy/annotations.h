// METADATA comment blocks (OPA annotations) attached to rules:
//
//   # METADATA
//   # title: Allow joining
//   # authors:
//   # - Jane Doe <jane@example.com>
//   allow if { ... }
//
// The block is a small YAML document; this reads the subset annotations use (scalars, lists
// of scalars or one-level maps, one-level maps) without a YAML library.
#pragma once

#include <map>
#include <string_view>

#include "policy/value.h"

namespace policy {

// Maps the 1-based line of the first non-comment line after each METADATA block to the
// block's annotations, normalized as OPA returns them from rego.metadata.rule(): authors and
// related_resources become objects, and "scope" defaults to "rule".
std::map<int, Value> find_annotations(std::string_view source);

}  // namespace policy
