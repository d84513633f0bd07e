<?php
/**
 * WordPress-like lab stub for wp-includes/admin-bar.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'admin-bar.php';
