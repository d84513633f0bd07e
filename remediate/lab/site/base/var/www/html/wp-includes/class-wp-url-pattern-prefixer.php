<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-url-pattern-prefixer.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-url-pattern-prefixer.php';
