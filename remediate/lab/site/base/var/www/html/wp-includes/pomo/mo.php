<?php
/**
 * WordPress-like lab stub for wp-includes/pomo/mo.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'pomo/mo.php';
