// Compiles many programs in one JVM: javac's start-up and warm-up are paid once, not per program.
// Usage: java JacodeBatchCompile CLASSPATH DIR...   Each DIR holds .java files and gets its classes, plus
// "compile.ok" or "compile.err" (the diagnostics). Every DIR is a separate compilation, so programs that all
// declare `class Problem` do not clash.
import javax.tools.*;
import java.io.*;
import java.nio.file.*;
import java.util.*;

public class JacodeBatchCompile {
    public static void main(String[] args) throws Exception {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        String classpath = args[0];
        for (int i = 1; i < args.length; i++) {
            File dir = new File(args[i]);
            List<File> sources = new ArrayList<>();
            for (File f : Objects.requireNonNull(dir.listFiles())) {
                if (f.getName().endsWith(".java")) sources.add(f);
            }
            StringWriter diagnostics = new StringWriter();
            boolean ok;
            try (StandardJavaFileManager files = compiler.getStandardFileManager(null, null, null)) {
                List<String> options = Arrays.asList("-nowarn", "-cp", classpath, "-d", dir.getPath());
                ok = compiler.getTask(diagnostics, files, null, options, null,
                                      files.getJavaFileObjectsFromFiles(sources)).call();
            } catch (Throwable t) {
                ok = false;
                diagnostics.write("compiler crashed: " + t);
            }
            Files.write(Paths.get(dir.getPath(), ok ? "compile.ok" : "compile.err"),
                        diagnostics.toString().getBytes("UTF-8"));
        }
    }
}
