<?php
/**
 * WordPress-like lab stub for wp-includes/script-loader.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'script-loader.php';
