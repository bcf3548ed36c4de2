// Package envflag lets a command-line flag fall back to an environment variable without
// showing the variable's value: the flag's default, which --help prints, stays the built-in
// one, and the variable is read only when the command runs. A flag given on the command line
// beats the variable, which beats the built-in default. It depends on nothing of ours.
package envflag

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

// annotation is the flag annotation that names a flag's variable.
const annotation = "envflag"

// Bind makes the flag name of fs fall back to the environment variable env. The flag's usage
// should name env, since its value is never shown. Binding a flag fs lacks is a programming
// error, and panics.
func Bind(fs *pflag.FlagSet, name, env string) {
	if err := fs.SetAnnotation(name, annotation, []string{env}); err != nil {
		panic(fmt.Sprintf("envflag: bind %s to %s: %v", name, env, err))
	}
}

// Variable returns the environment variable the flag f falls back to, or "" when Bind bound
// it to none.
func Variable(f *pflag.Flag) string {
	if env := f.Annotations[annotation]; len(env) == 1 {
		return env[0]
	}
	return ""
}

// Resolve sets each bound flag of fs that was not given on the command line to its
// variable's value, when that is set and not empty. Call it when the command runs (a cobra
// PersistentPreRunE), after the flags are parsed. The error names the variable, never its
// value.
func Resolve(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := Variable(f)
		if err != nil || f.Changed || env == "" {
			return
		}
		v := os.Getenv(env)
		if v == "" {
			return
		}
		// pflag's error quotes the value, which may be a secret: it is left out.
		if serr := f.Value.Set(v); serr != nil {
			err = fmt.Errorf("$%s: not a valid value for --%s", env, f.Name)
		}
	})
	return err
}
