<?php
/**
 * WordPress-like lab stub for wp-includes/class-wpdb.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wpdb.php';
