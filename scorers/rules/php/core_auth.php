<?php
function client_ip() {
    // ok: pb.php.spoofable-client-ip-header
    if (!empty($_SERVER['HTTP_X_FORWARDED_FOR'])) {
        // ruleid: pb.php.spoofable-client-ip-header
        return $_SERVER['HTTP_X_FORWARDED_FOR'];
    }
    // ok: pb.php.spoofable-client-ip-header
    return $_SERVER['REMOTE_ADDR'];
}

function admin_gate() {
    // ruleid: pb.php.referer-based-authorization
    if (strpos($_SERVER['HTTP_REFERER'], 'https://admin.example.com') === 0) {
        grant_access();
    }
    // ok: pb.php.referer-based-authorization
    if (hash_equals($_SESSION['csrf'], $_POST['csrf'])) {
        grant_access();
    }
    // ruleid: pb.php.ip-based-authentication
    if (!in_array(@$_SERVER['REMOTE_ADDR'], array('127.0.0.1', '::1'))) {
        die('forbidden');
    }
    // ok: pb.php.ip-based-authentication
    $ip = $_SERVER['REMOTE_ADDR'];
}
