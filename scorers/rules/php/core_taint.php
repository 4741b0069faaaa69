<?php
function greet() {
    $name = $_GET['name'] ?? 'guest';
    // ruleid: pb.php.tainted-xss
    echo "<p>Welcome back, " . $name . "!</p>";
    // ok: pb.php.tainted-xss
    echo "<p>Welcome back, " . htmlspecialchars($name, ENT_QUOTES, 'UTF-8') . "!</p>";
}

function comment() {
    $comment = $_POST['comment'];
    $html = "<div class='comment'>$comment</div>";
    // ruleid: pb.php.tainted-xss
    print($html);
    $count = (int) $_POST['count'];
    // ok: pb.php.tainted-xss
    echo "<span>$count</span>";
    // ok: pb.php.tainted-xss
    echo "<p>static text</p>";
}

function self_link() {
    // ruleid: pb.php.tainted-xss
    echo '<form action="' . $_SERVER['PHP_SELF'] . '">';
    // ok: pb.php.tainted-xss
    echo '<p>' . $_SERVER['SERVER_NAME'] . '</p>';
}

function download() {
    $doc = $_GET['doc'];
    // ruleid: pb.php.tainted-path
    readfile("/srv/docs/" . $doc);
    $safe = basename($_GET['doc'] ?? '');
    // ok: pb.php.tainted-path
    readfile("/srv/docs/" . $safe);
}

function page() {
    $page = $_GET['page'] ?? 'home';
    // ruleid: pb.php.tainted-path
    include "pages/" . $page . ".php";
}

function page_allowed() {
    $page = $_GET['page'] ?? 'home';
    if (!in_array($page, ['home', 'about'], true)) {
        $page = 'home';
    }
    // ok: pb.php.tainted-path
    include __DIR__ . "/pages/" . $page . ".php";
}

function confined() {
    $path = realpath("/srv/docs/" . $_GET['doc']);
    if ($path !== false && str_starts_with($path, "/srv/docs/")) {
        // ok: pb.php.tainted-path
        readfile($path);
    }
}

function go() {
    $next = $_GET['next'];
    // ruleid: pb.php.tainted-redirect
    header("Location: " . $next);
}

function go_checked() {
    $next = $_GET['next'] ?? '/';
    if ($next === '' || $next[0] !== '/' || str_starts_with($next, '//')) {
        $next = '/';
    }
    // ok: pb.php.tainted-redirect
    header("Location: " . $next);
    // ok: pb.php.tainted-redirect
    header("Content-Type: text/plain");
}
