#!/usr/bin/env bash
# Builds the libFuzzer harness over CrisisPlaybook + CrisisCore + Yams + swift-mustache without SwiftPM: every module is compiled
# straight from its sources with swiftc/clang, instrumented with -sanitize=fuzzer,address, into .build-fuzz/.
# Needs the Yams and swift-mustache checkouts under .build/checkouts (any `swift build` makes them). Prints the binary's path last.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
OUT="$ROOT/.build-fuzz"
YAMS="$ROOT/.build/checkouts/Yams/Sources"
MUSTACHE="$ROOT/.build/checkouts/swift-mustache/Sources/Mustache"
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-clang}"
[ -d "$YAMS/CYaml" ] || { echo "no Yams checkout at $YAMS (run swift build first)" >&2; exit 3; }
[ -d "$MUSTACHE" ] || { echo "no swift-mustache checkout at $MUSTACHE (run swift build first)" >&2; exit 3; }
mkdir -p "$OUT/obj" "$OUT/mod"
SAN=(-sanitize=fuzzer,address)
MAP=(-Xcc "-fmodule-map-file=$YAMS/CYaml/include/module.modulemap" -I "$YAMS/CYaml/include" -Xcc -DYAML_DECLARE_STATIC)

stamp="$OUT/stamp"
sources=$(cat "$ROOT"/Sources/CrisisCore/*.swift "$ROOT"/Sources/CrisisPlaybook/*.swift "$(dirname "$0")/harness.swift" \
          "$0" | sha256sum | cut -c1-16)
if [ -x "$OUT/crisis-fuzz" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sources" ]; then
  echo "$OUT/crisis-fuzz"
  exit 0
fi

for c in "$YAMS"/CYaml/src/*.c; do
  "$CLANG" -c -g -O1 -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I "$YAMS/CYaml/include" \
    -o "$OUT/obj/cyaml-$(basename "$c" .c).o" "$c"
done
"$SWIFTC" -module-name Yams -swift-version 5 -D SWIFT_PACKAGE -parse-as-library -wmo -num-threads 0 -Onone -g "${SAN[@]}" \
  "${MAP[@]}" -emit-module -emit-module-path "$OUT/mod/Yams.swiftmodule" -c -o "$OUT/obj/Yams.o" \
  "$YAMS"/Yams/*.swift
"$SWIFTC" -module-name Mustache -swift-version 5 -parse-as-library -wmo -num-threads 0 -Onone -g "${SAN[@]}" \
  -emit-module -emit-module-path "$OUT/mod/Mustache.swiftmodule" -c -o "$OUT/obj/Mustache.o" "$MUSTACHE"/*.swift
"$SWIFTC" -module-name CrisisCore -package-name crisis -swift-version 6 -enable-upcoming-feature ExistentialAny -parse-as-library -wmo \
  -num-threads 0 -Onone -g "${SAN[@]}" -I "$OUT/mod" -emit-module -emit-module-path "$OUT/mod/CrisisCore.swiftmodule" \
  -c -o "$OUT/obj/CrisisCore.o" "$ROOT"/Sources/CrisisCore/*.swift
"$SWIFTC" -module-name CrisisPlaybook -package-name crisis -swift-version 6 -enable-upcoming-feature ExistentialAny -parse-as-library \
  -wmo -num-threads 0 -Onone -g "${SAN[@]}" "${MAP[@]}" -I "$OUT/mod" -emit-module \
  -emit-module-path "$OUT/mod/CrisisPlaybook.swiftmodule" -c -o "$OUT/obj/CrisisPlaybook.o" \
  "$ROOT"/Sources/CrisisPlaybook/*.swift
"$SWIFTC" -module-name CrisisFuzz -package-name crisis -swift-version 6 -parse-as-library -Onone -g "${SAN[@]}" "${MAP[@]}" \
  -use-ld=lld -I "$OUT/mod" -o "$OUT/crisis-fuzz" "$(dirname "$0")/harness.swift" "$OUT"/obj/*.o
echo "$sources" > "$stamp"
echo "$OUT/crisis-fuzz"
