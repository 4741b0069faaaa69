import android.content.Context;
import android.content.SharedPreferences;
import android.webkit.WebView;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;

public class CoreMisc {
    void configure(HttpSecurity http) throws Exception {
        // ruleid: pb.java.spring-csrf-disabled
        http.csrf().disable();
        // ok: pb.java.spring-csrf-disabled
        http.csrf().csrfTokenRepository(CookieCsrfTokenRepository.withHttpOnlyFalse());
    }

    void prefs(Context context, WebView view) {
        // ruleid: pb.java.android-world-accessible
        SharedPreferences p = context.getSharedPreferences("cfg", Context.MODE_WORLD_READABLE);
        // ok: pb.java.android-world-accessible
        SharedPreferences q = context.getSharedPreferences("cfg", Context.MODE_PRIVATE);
        // ruleid: pb.java.webview-file-access
        view.getSettings().setAllowFileAccess(true);
        // ok: pb.java.webview-file-access
        view.getSettings().setAllowFileAccess(false);
    }

    void stop(Thread gameThread) {
        // ruleid: pb.java.deprecated-thread-stop
        gameThread.stop();
        // ok: pb.java.deprecated-thread-stop
        gameThread.interrupt();
    }
}
