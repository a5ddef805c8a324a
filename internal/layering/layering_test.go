package layering

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is the main module's path; rules are written relative to it ("" is
// the root package, "store" is github.com/tollgate/tollgate/store).
const module = "github.com/tollgate/tollgate"

// A rule forbids packages under the directories in from (or the root package,
// for "") from importing a project package that forbidden reports true for.
type rule struct {
	name      string
	applies   func(pkg string) bool // pkg relative to the module
	forbidden func(imp string) bool // imp relative to the module
}

// under reports whether rel is dir or a package below it; dir "" is only the
// root package itself.
func under(rel string, dirs ...string) bool {
	for _, d := range dirs {
		if rel == d || (d != "" && strings.HasPrefix(rel, d+"/")) {
			return true
		}
	}
	return false
}

// rules is the layering, over direct imports (production and test).
var rules = []rule{
	{
		name:      "the root package imports nothing from the project",
		applies:   func(p string) bool { return p == "" },
		forbidden: func(i string) bool { return i != "" },
	},
	{
		name:      "store, ledger, settlement and payouts never import activities or workflows",
		applies:   func(p string) bool { return under(p, "store", "ledger", "settlement", "payouts") },
		forbidden: func(i string) bool { return under(i, "activities", "workflows") },
	},
	{
		name:      "api never imports activities",
		applies:   func(p string) bool { return under(p, "api") },
		forbidden: func(i string) bool { return under(i, "activities") },
	},
	{
		name:      "only workflows, worker, cmd, internal/devstack (and activities' own tests) import activities",
		applies:   func(p string) bool { return !under(p, "workflows", "worker", "cmd", "internal/devstack", "activities") },
		forbidden: func(i string) bool { return under(i, "activities") },
	},
}

// imports is one package's direct imports, as go list reports them.
type imports struct {
	pkg   string   // import path
	prod  []string // .Imports
	tests []string // .TestImports and .XTestImports
}

// violation is one forbidden import; test says it is only made by _test.go files.
type violation struct {
	from, to string // relative to the module
	test     bool
}

func (v violation) String() string {
	kind := "imports"
	if v.test {
		kind = "imports in its tests"
	}
	return fmt.Sprintf("%s %s %s", show(v.from), kind, show(v.to))
}

func show(rel string) string {
	if rel == "" {
		return module
	}
	return module + "/" + rel
}

// check applies rules to pkgs and returns each broken rule as a message
// naming the package, the import and the rule, in a stable order.
func check(pkgs []imports, rules []rule) map[violation][]string {
	found := map[violation][]string{}
	add := func(from string, imps []string, test bool) {
		for _, imp := range imps {
			to, ok := rel(imp)
			if !ok || to == from { // outside the project, or a package's tests importing it
				continue
			}
			for _, r := range rules {
				if r.applies(from) && r.forbidden(to) {
					v := violation{from: from, to: to, test: test}
					if !slices.Contains(found[v], r.name) {
						found[v] = append(found[v], r.name)
					}
				}
			}
		}
	}
	for _, p := range pkgs {
		from, ok := rel(p.pkg)
		if !ok {
			continue
		}
		add(from, p.prod, false)
		add(from, p.tests, true)
	}
	return found
}

// rel returns path relative to the module, and false when it is outside it.
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r, true
	}
	return "", false
}

// goList lists every package of the main module with its direct imports.
func goList(t *testing.T) []imports {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./... in the module root: %v\n%s", err, stderr.String())
	}
	var pkgs []imports
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list: unexpected line %q", sc.Text())
		}
		pkgs = append(pkgs, imports{pkg: parts[0], prod: strings.Fields(parts[1]), tests: strings.Fields(parts[2])})
	}
	if len(pkgs) < 10 || pkgs[0].pkg != module {
		t.Fatalf("go list ./... listed %d packages starting with %q; expected the whole module from its root", len(pkgs), pkgs[0].pkg)
	}
	return pkgs
}

func TestLayering(t *testing.T) {
	found := check(goList(t), rules)
	var keys []violation
	for v := range found {
		keys = append(keys, v)
	}
	slices.SortFunc(keys, func(a, b violation) int { return strings.Compare(a.String(), b.String()) })
	for _, v := range keys {
		t.Errorf("forbidden import: %s\n\tbreaks: %s", v, strings.Join(found[v], "; "))
	}
}

// TestCheckFindsForbiddenImports proves the checker can fail: synthetic
// packages with one forbidden import per rule, and allowed ones beside them.
func TestCheckFindsForbiddenImports(t *testing.T) {
	m := func(rel string) string { return show(rel) }
	pkgs := []imports{
		{pkg: m(""), prod: []string{"fmt", m("store")}, tests: []string{m("")}},
		{pkg: m("ledger"), prod: []string{m("")}, tests: []string{m("workflows")}},
		{pkg: m("settlement/sub"), prod: []string{m("activities/x")}},
		{pkg: m("api"), prod: []string{m("workflows"), m("store"), m("activities")}},
		{pkg: m("internal/testdb"), prod: []string{m("activities")}},
		{pkg: m("workflows"), prod: []string{m("activities"), m("ledger")}},
		{pkg: m("cmd/tollgate"), prod: []string{m("activities")}},
		{pkg: m("internal/devstack"), prod: []string{m("activities")}},
		{pkg: m("activities"), tests: []string{m("activities"), m("ledger")}},
		{pkg: "example.com/other", prod: []string{m("activities")}},
	}
	got := check(pkgs, rules)
	want := []violation{
		{from: "", to: "store"},
		{from: "ledger", to: "workflows", test: true},
		{from: "settlement/sub", to: "activities/x"},
		{from: "api", to: "activities"},
		{from: "internal/testdb", to: "activities"},
	}
	for _, v := range want {
		if _, ok := got[v]; !ok {
			t.Errorf("check missed %s", v)
		}
		delete(got, v)
	}
	for v, why := range got {
		t.Errorf("check reported an allowed import: %s (%v)", v, why)
	}
	api := check(pkgs[3:4], rules)[violation{from: "api", to: "activities"}]
	if len(api) != 2 {
		t.Errorf("api -> activities should break two rules, got %q", api)
	}
}
