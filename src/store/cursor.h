// Opaque keyset-pagination cursors (store-internal; callers only pass them through).
//
// A cursor names the last row of a page by its sort key (an integer time and a text id).
// It is encoded as unpadded base64url of "v1.<time>.<id>" so clients treat it as opaque.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"

namespace store {

struct CursorKey {
  int64_t time = 0;
  std::string id;
};

std::string encode_cursor(const CursorKey& key);

// InvalidArgument ("invalid_cursor") for anything encode_cursor did not produce.
base::Result<CursorKey> decode_cursor(std::string_view cursor);

// InvalidArgument unless 1 <= limit <= kMaxPageLimit.
base::Status check_limit(int limit);

// Reads a page from `st`, bound with `limit` + 1 as its LIMIT: the rows as `read(const Stmt&)`
// makes them, up to `limit`; the extra row, when there is one, says another page exists, and
// the cursor then names the page's last item by `key_of(item)` (a CursorKey).
template <typename T, typename Read, typename KeyOf>
base::Result<Page<T>> read_page(Stmt& st, int limit, Read&& read, KeyOf&& key_of) {
  Page<T> page;
  while (true) {
    EC_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    if (int(page.items.size()) == limit) {
      page.next_cursor = encode_cursor(key_of(page.items.back()));
      break;
    }
    page.items.push_back(read(std::as_const(st)));
  }
  return page;
}

}  // namespace store
