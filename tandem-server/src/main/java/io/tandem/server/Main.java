package io.tandem.server;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tandem} command line. */
@Command(name = "tandem", mixinStandardHelpOptions = true, version = "tandem 0.1.0",
        description = "Tandem: an active/active clustered SCSI target.",
        subcommands = {ServeCommand.class, ClusterDemoCommand.class, RbdCreateCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        configureLogging();
        CommandLine cli = new CommandLine(new Main());
        // Bad input gets one line naming the problem, not a page of usage.
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("tandem: " + ex.getMessage() + " (see: tandem " + ex.getCommandLine().getCommandName() + " --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof ConfigException) {
                commandLine.getErr().println("tandem: bad configuration: " + ex.getMessage());
                return 2;
            }
            commandLine.getErr().println("tandem: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return 1;
        });
        return cli.execute(args);
    }

    private static void configureLogging() {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        Logger root = Logger.getLogger("");
        for (var handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setFormatter(new SimpleFormatter());
        Level level = Level.parse(System.getProperty("tandem.log.level", "INFO"));
        console.setLevel(level);
        root.setLevel(level);
        root.addHandler(console);
    }
}
