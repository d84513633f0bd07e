<?php
/**
 * WordPress-like lab stub for wp-includes/http.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'http.php';
