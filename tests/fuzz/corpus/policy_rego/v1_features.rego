package fuzz
import rego.v1
default allow := false
allow if {
	some x in input.a
	x == 1
	every y in [1, 2] { y > 0 }
}
names contains n if some n in {"a", "b"}
obj[k] := v if some k, v in {"p": 1}
f(x) := x + 1
g := [y | some z in input.a; y := z] if true
h := {k: 1 | some k in ["a"]}
s := $"n is {input.n}"
a.b.c := count(input.a)
w := data.fuzz.a with input.a as [1]
