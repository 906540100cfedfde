// Evaluator fast path: single-valued terms evaluated directly, without continuations. This is
// what keeps simple decisions (field comparisons on a large input) in the microsecond range.
#include "policy/eval.h"

namespace policy {

Evaluator::Fast Evaluator::fast(const Term& t, Frame& f, const Value*& out, Value& scratch,
                                base::Status& err) {
  switch (t.kind) {
    case TermKind::kScalar:
      out = &t.value;
      return Fast::kValue;
    case TermKind::kVar:
      if (t.slot >= 0) {
        if (!f.bound[static_cast<size_t>(t.slot)]) return Fast::kNotSimple;
        out = &f.slots[static_cast<size_t>(t.slot)];
        return Fast::kValue;
      }
      if (t.slot == kSlotInput) {
        if (!input_) return Fast::kUndefined;
        out = input_;
        return Fast::kValue;
      }
      return Fast::kNotSimple;
    case TermKind::kRef: {
      const Term& head = *t.items[0];
      const size_t n = t.items.size();
      size_t i = 1;
      const Value* cur = nullptr;
      const bool in_data = head.kind == TermKind::kVar && head.slot == kSlotData;
      if (in_data) {
        if (!data_overrides_.empty()) return Fast::kNotSimple;
        const Node* node = prog_.root.get();
        const Value* base = &prog_.base_data;
        while (i < n && node && !node->has_rules()) {
          const Term& op = *t.items[i];
          if (op.kind != TermKind::kScalar || !op.value.is_string()) return Fast::kNotSimple;
          const std::string& key = op.value.as_string();
          auto it = node->children.find(key);
          node = it == node->children.end() ? nullptr : it->second.get();
          base = base ? base->find(key) : nullptr;
          ++i;
        }
        if (node && node->has_rules()) {
          if (base || node->is_function()) return Fast::kNotSimple;
          auto v = node_value(node);
          if (!v.is_ok()) {
            err = v.status();
            return Fast::kUndefined;
          }
          if (!*v) return Fast::kUndefined;
          scratch = std::move(**v);
          cur = &scratch;
        } else if (!node) {
          if (!base) return Fast::kUndefined;
          cur = base;
        } else {
          return Fast::kNotSimple;  // a whole subtree of the data document
        }
      } else {
        Fast r = fast(head, f, cur, scratch, err);
        if (r != Fast::kValue) return r;
      }
      for (; i < n; ++i) {
        const Term& op = *t.items[i];
        const Value* key = nullptr;
        Value op_scratch;
        if (op.kind == TermKind::kScalar) {
          key = &op.value;
        } else if (op.kind == TermKind::kVar) {
          if (op.slot < 0 || !f.bound[static_cast<size_t>(op.slot)]) return Fast::kNotSimple;
          key = &f.slots[static_cast<size_t>(op.slot)];
        } else if (op.kind == TermKind::kRef) {
          // A single-valued operand such as `teacher_actions[input.action]`'s.
          Fast r = fast(op, f, key, op_scratch, err);
          if (r != Fast::kValue || !err.is_ok()) return r;
        } else {
          return Fast::kNotSimple;
        }
        const Value* next = cur->get(*key);
        if (!next && in_data && key->is_int() && cur->is_object()) {
          // data.x[2] also reads the key "2" (OPA's integer-like keys into data).
          next = cur->get(Value::string(number_to_string(*key)));
        }
        if (!next) return Fast::kUndefined;
        cur = next;
      }
      out = cur;
      return Fast::kValue;
    }
    case TermKind::kCall: {
      if (t.op >= CallOp::kEqual && mocks_.empty() && t.items.size() == 3) {
        const Value* a = nullptr;
        const Value* b = nullptr;
        Value sa, sb;
        Fast r = fast(*t.items[1], f, a, sa, err);
        if (r != Fast::kValue || !err.is_ok()) return r;
        r = fast(*t.items[2], f, b, sb, err);
        if (r != Fast::kValue || !err.is_ok()) return r;
        int c = a->compare(*b);
        bool res = false;
        switch (t.op) {
          case CallOp::kEqual:
            res = c == 0;
            break;
          case CallOp::kNeq:
            res = c != 0;
            break;
          case CallOp::kLt:
            res = c < 0;
            break;
          case CallOp::kLte:
            res = c <= 0;
            break;
          case CallOp::kGt:
            res = c > 0;
            break;
          default:
            res = c >= 0;
            break;
        }
        static const Value kTrue = Value::boolean(true);
        static const Value kFalse = Value::boolean(false);
        out = res ? &kTrue : &kFalse;
        return Fast::kValue;
      }
      if ((t.op != CallOp::kOther && t.op < CallOp::kEqual) || !t.builtin || !mocks_.empty()) {
        return Fast::kNotSimple;
      }
      const size_t nargs = t.items.size() - 1;
      constexpr size_t kMaxArgs = 4;
      if (nargs > kMaxArgs || static_cast<int>(nargs) != t.builtin->arity) return Fast::kNotSimple;
      Value args[kMaxArgs];
      for (size_t j = 0; j < nargs; ++j) {
        const Value* av = nullptr;
        Value as;
        Fast r = fast(*t.items[j + 1], f, av, as, err);
        if (r != Fast::kValue || !err.is_ok()) return r;
        args[j] = *av;
      }
      err = step();
      if (!err.is_ok()) return Fast::kUndefined;
      auto res = t.builtin->fn(ctx_, std::span<const Value>(args, nargs));
      if (!res.is_ok()) {
        base::Status s = res.status();
        if ((is_builtin_error(s) || is_type_error(s)) && !limits_.strict_builtin_errors) {
          return Fast::kUndefined;
        }
        std::string code(s.reason());
        if (code != kTypeError && code != kBuiltinError) code = std::string(kBuiltinError);
        err = error_at(t.loc, code, s.message());
        return Fast::kUndefined;
      }
      if (!*res) return Fast::kUndefined;
      scratch = std::move(**res);
      out = &scratch;
      return Fast::kValue;
    }
    default:
      return Fast::kNotSimple;
  }
}

}  // namespace policy
